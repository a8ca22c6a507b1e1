/*
Package sparrow is a webhook delivery engine a Go service embeds.

The host hands Sparrow its *pgxpool.Pool. Sparrow keeps its tables in that
database, runs its background work (fan-out, delivery) as River jobs, and
delivers events as signed HTTP POSTs (Standard Webhooks), retried with
backoff and recorded attempt by attempt.

# Setting up

Create the tables once at startup, then the engine:

	if err := migrations.Migrate(ctx, pool, nil); err != nil { ... } // River's and Sparrow's
	eng, err := sparrow.New(pool, sparrow.WithLogger(logger))

A host that runs its own River client adds Sparrow's workers and queue to it:

	workers := river.NewWorkers()
	if err := eng.AddWorkers(workers); err != nil { ... }
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		PeriodicJobs: eng.PeriodicJobs(), // fan-out sweep and retention, with the host's own
		Queues:       eng.Queues(),       // merged with the host's own queues
		Workers:      workers,
	})

The periodic jobs are required: a single push queues its event for fan-out
in Sparrow's tables rather than inserting a River job, and the fan-out
sweep starts the poller that takes that queue in the host's process.

A host without one lets the engine run its own: Engine.Start and Engine.Stop.

A process that only pushes events needs neither: the engine inserts its jobs
with an insert-only client of its own. But a River client that works
Sparrow's queue must have Sparrow's workers, or its jobs fail as unknown
kinds; merge Queues only together with AddWorkers. Likewise, after
Engine.UseRiverClient the engine inserts through the host's client, and
River refuses to insert a job whose kind that client's Workers lack: unless
the host added Sparrow's workers or set river.Config.SkipUnknownJobCheck,
PushEvents, and every other method that schedules a job, fails with a
*river.UnknownJobKindError.

# Registering and pushing

	eng.RegisterEvent(ctx, sparrow.RegisterEventParams{Name: "order.created"})
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{
		URL:    "https://partner.example.com/hooks",
		Events: []string{"order.created"},
	})
	// wh.Secret is the signing secret, returned only now.

Push an event in the same transaction as the change it announces (the
transactional outbox): a rollback leaves neither, a commit delivers it.

	tx, err := pool.Begin(ctx)
	insertOrder(ctx, tx, order)
	ev, err := eng.PushEventTx(ctx, tx, sparrow.Event{Name: "order.created", Payload: payload})
	err = tx.Commit(ctx)

Every method that writes has such a Tx twin; the plain method runs in a
transaction of its own.

# Delivery

Each matching, active subscription of a live webhook gets a delivery. A
delivery is POSTed with the event's payload (or what the subscription's
template renders), the Standard Webhooks headers webhook-id (the delivery id,
the same on every attempt), webhook-timestamp and webhook-signature (one
signature per active secret during a rotation), and Sparrow-Event,
Sparrow-Event-Id, Sparrow-Namespace, Sparrow-Webhook-Id and Sparrow-Attempt.

2xx answers succeed. 408, 429, 5xx, timeouts and connection failures are
retried (delivery.DefaultCheckRetry) after delivery.DefaultBackoff's delays,
or the receiver's Retry-After; DNS and TLS failures, refused destinations,
redirects, other 4xx answers and template errors are not. 410 Gone pauses the
webhook. Paused webhooks' deliveries wait and go out on ResumeWebhook; an
event past its TTL is not delivered (expired).

Destinations are checked when dialing, after DNS: loopback, private,
link-local and other non-public addresses are refused unless allowed
(WithAllowPrivateNetworks, WithAllowedCIDRs).

# Errors

Methods return errors matching ErrNotFound, ErrAlreadyExists,
ErrInvalidArgument (an *InvalidArgumentError naming the field),
ErrFailedPrecondition (a *FailedPreconditionError) or ErrResourceExhausted;
match them with errors.Is and errors.As. Bad input changes nothing. Namespaces isolate tenants: a resource of one
namespace is not found through another.
*/
package sparrow
