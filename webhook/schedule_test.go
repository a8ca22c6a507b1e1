package webhook

import (
	"slices"
	"testing"
	"time"
)

func TestRetryScheduleRoundTrip(t *testing.T) {
	t.Parallel()

	written := []string{"5s", "10s", "1m30s", "5m", "1h30m", "2h", "24h"}
	schedule, err := ParseRetrySchedule("retry_schedule", written)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatRetrySchedule(schedule); !slices.Equal(got, written) {
		t.Errorf("written back as %q, want %q", got, written)
	}
	if _, err := ParseRetrySchedule("retry_schedule", []string{"90m0s", "999ms"}); err == nil {
		t.Error("a retry under a second accepted")
	}
	if got := FormatRetrySchedule([]time.Duration{90 * time.Minute}); !slices.Equal(got, []string{"1h30m"}) {
		t.Errorf("90 minutes written %q", got)
	}
}
