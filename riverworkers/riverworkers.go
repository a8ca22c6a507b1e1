// Package riverworkers names Sparrow's River jobs: their arguments and
// kinds, for a host that recognises them in River's UI, its middleware or
// its queries. Hosts don't insert or work these jobs themselves:
// sparrow.Engine.Install puts Sparrow's workers, queue and periodic jobs
// into the host's River configuration, and the engine schedules the jobs.
//
// Job arguments carry identifiers only; the data lives in Sparrow's tables.
package riverworkers

import (
	"encoding/json"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// FanoutArgs asks for events to be fanned out to their subscribers: a batch
// pushed together, a repush, or Sparrow's alerts. Single pushes are fanned
// out from Sparrow's fan-out queue, without a job.
type FanoutArgs struct {
	EventIDs []string `json:"event_ids"`
	// Round is the fan-out round of the events this job performs: 0 for the
	// push, n for the n-th repush. A job run twice finds its round done.
	Round int `json:"round,omitempty"`
}

// Kind is FanoutArgs' River job kind.
func (FanoutArgs) Kind() string { return "sparrow_fanout" }

// FanoutSweepArgs asks for the fan-out queue to be taken, and for a poller
// of it to run in the process that works the job. It runs periodically.
type FanoutSweepArgs struct{}

// Kind is FanoutSweepArgs' River job kind.
func (FanoutSweepArgs) Kind() string { return "sparrow_fanout_sweep" }

// DeliverArgs asks for the next attempt of deliveries to one webhook, all
// at the same attempt count, or with Manual for the manual attempts asked
// for of them.
type DeliverArgs struct {
	WebhookID string `json:"webhook_id"`
	// Namespace is the webhook's: the job's share of a busy process
	// follows it (empty in jobs inserted by earlier versions).
	Namespace   string `json:"namespace,omitempty"`
	DeliveryIDs IDList `json:"delivery_ids"`
	// Attempted is how many attempts the deliveries had made, manual ones
	// included, when the job was inserted. A delivery whose count has moved
	// on belongs to a later job, so no delivery is ever attempted by two
	// jobs at once.
	Attempted int `json:"attempted"`
	// Manual: the job makes the one manual attempt asked for of each of
	// its deliveries (Engine.RetryDelivery), at once. Other jobs leave a
	// delivery with such a request alone until it is made.
	Manual bool `json:"manual,omitempty"`
	// DeliveryID is the one delivery of a job inserted by Sparrow 0.1,
	// which carried no more: such a job takes the delivery as it finds it.
	DeliveryID string `json:"delivery_id,omitempty"`
}

// Kind is DeliverArgs' River job kind.
func (DeliverArgs) Kind() string { return "sparrow_deliver" }

// IDList is a list of ids kept in a job's arguments as one comma-separated
// JSON string: River indexes every value of a job's arguments (a GIN
// index), and one string costs one entry where a JSON array costs one per
// id.
type IDList []string

// MarshalJSON encodes l as one string.
func (l IDList) MarshalJSON() ([]byte, error) { return json.Marshal(strings.Join(l, ",")) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a JSON array of ids.
func (l *IDList) UnmarshalJSON(data []byte) error {
	var joined string
	if err := json.Unmarshal(data, &joined); err != nil {
		return json.Unmarshal(data, (*[]string)(l))
	}
	*l = nil
	if joined != "" {
		*l = strings.Split(joined, ",")
	}
	return nil
}

// UnparkArgs asks for a resumed webhook's waiting deliveries to be sent.
type UnparkArgs struct {
	WebhookID string `json:"webhook_id"`
}

// Kind is UnparkArgs' River job kind.
func (UnparkArgs) Kind() string { return "sparrow_unpark" }

// ResealArgs asks for webhook secrets and custom headers to be re-sealed
// with the engine's current key.
type ResealArgs struct{}

// Kind is ResealArgs' River job kind.
func (ResealArgs) Kind() string { return "sparrow_reseal_secrets" }

// InsertOpts makes one reseal job at a time: starting processes each ask for
// one, and the one already queued or running answers them all.
func (ResealArgs) InsertOpts() river.InsertOpts { return oneAtATime() }

// RetentionArgs asks for finished history older than the retention to be
// deleted.
type RetentionArgs struct{}

// Kind is RetentionArgs' River job kind.
func (RetentionArgs) Kind() string { return "sparrow_retention" }

// InsertOpts makes one retention job at a time, however many processes
// schedule one.
func (RetentionArgs) InsertOpts() river.InsertOpts { return oneAtATime() }

// Kinds lists the kinds of every Sparrow job.
func Kinds() []string {
	return []string{
		FanoutArgs{}.Kind(), FanoutSweepArgs{}.Kind(), DeliverArgs{}.Kind(), UnparkArgs{}.Kind(),
		ResealArgs{}.Kind(), RetentionArgs{}.Kind(), RecoverArgs{}.Kind(),
	}
}

// oneAtATime makes a job unique among those not finished.
func oneAtATime() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning,
		rivertype.JobStateScheduled,
	}}}
}
