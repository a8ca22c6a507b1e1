package webhook

import "time"

// RecoveryStatus is where a recovery stands.
type RecoveryStatus string

const (
	// RecoveryRunning recoveries have events left to consider.
	RecoveryRunning RecoveryStatus = "running"
	// RecoverySucceeded recoveries considered every event of their range.
	RecoverySucceeded RecoveryStatus = "succeeded"
	// RecoveryCancelled recoveries were stopped by request; what they had
	// re-sent goes on.
	RecoveryCancelled RecoveryStatus = "cancelled"
	// RecoveryFailed recoveries could not go on: their webhook was deleted.
	RecoveryFailed RecoveryStatus = "failed"
)

// Recovery re-sends to a webhook the events of a time range that it did not
// receive: those of the types it subscribes to with no delivery to it that
// succeeded or is still under way.
type Recovery struct {
	// ID is "rcv_...".
	ID        string
	Namespace string
	WebhookID string
	// Since and Until bound the events' push time: [Since, Until). A zero
	// Until stands for CreatedAt.
	Since  time.Time
	Until  time.Time
	Status RecoveryStatus
	// Error says why the recovery failed.
	Error string
	// Total is the number of events to consider, counted by the first
	// batch (zero before).
	Total int64
	// Done is the number of events considered so far.
	Done int64
	// Resent is the number of events re-sent so far: each a new delivery.
	Resent    int64
	CreatedAt time.Time
	UpdatedAt time.Time
}
