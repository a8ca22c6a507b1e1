package riverworkers

// RecoverArgs asks for the next batch of a recovery: events re-sent to a
// webhook that did not receive them. Each batch's job inserts the next.
type RecoverArgs struct {
	RecoveryID string `json:"recovery_id"`
	// Batch is the batch this job performs, from 0. The recovery counts
	// its batches, so a job River runs twice finds its batch done.
	Batch int `json:"batch"`
	// BatchSize is the events one batch considers; 0: Sparrow's default.
	BatchSize int `json:"batch_size,omitempty"`
}

// Kind is RecoverArgs' River job kind.
func (RecoverArgs) Kind() string { return "sparrow_recover" }
