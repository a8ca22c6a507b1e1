package sparrow

// WithRecoverBatchSize returns p with batches of n events, in place of
// worker.RecoverBatchDefault.
func WithRecoverBatchSize(p RecoverWebhookParams, n int) RecoverWebhookParams {
	p.batchSize = n
	return p
}
