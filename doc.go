/*
Package sparrow is a webhook delivery engine a Go service embeds.

The host hands Sparrow its *pgxpool.Pool. Sparrow keeps its tables in that
database, runs its background work (fan-out, delivery) as River jobs, and
delivers events as signed HTTP POSTs (Standard Webhooks), retried with
backoff and recorded attempt by attempt.

# Setting up

Create the tables once at startup, then the engine, and put Sparrow into
your River client's configuration before creating the client:

	if err := migrations.Migrate(ctx, pool, nil); err != nil { ... } // River's and Sparrow's
	eng, err := sparrow.New(pool, sparrow.WithLogger(logger))
	riverConfig := &river.Config{Queues: yourQueues, Workers: yourWorkers}
	if err := eng.Install(riverConfig); err != nil { ... } // Sparrow's workers, queue, periodic jobs
	client, err := river.NewClient(riverpgxv5.New(pool), riverConfig)
	err = client.Start(ctx) // and at shutdown: eng.Stop(ctx), then client.Stop(ctx)

Without a River client of your own, Engine.Start runs one for Sparrow and
Engine.Stop stops it. A process that only pushes events needs neither: the
engine schedules its jobs with an insert-only client of its own, and
whichever processes run the workers take them.

Forgetting to run the workers is loud: when events have waited longer than
WithStallThreshold (default 30s) and no process on the database runs
Sparrow's workers (each keeps a heartbeat row), the engine logs a warning
saying what to do, Engine.Ready returns ErrNoWorkers, and Engine.Backlog
shows what waits.

# Registering and pushing

	eng.RegisterEventType(ctx, sparrow.RegisterEventTypeParams{Name: "order.created"})
	wh, err := eng.RegisterWebhook(ctx, sparrow.RegisterWebhookParams{
		URL:    "https://partner.example.com/hooks",
		Events: []string{"order.created"},
	})
	// wh.Secret is the signing secret, returned only now.

Push an event in the same transaction as the change it announces (the
transactional outbox): a rollback leaves neither, a commit delivers it.

	tx, err := pool.Begin(ctx)
	insertOrder(ctx, tx, order)
	ev, err := eng.PushEventTx(ctx, tx, sparrow.PushEventParams{Name: "order.created", Payload: payload})
	err = tx.Commit(ctx)

Every method that writes has such a Tx twin; the plain method runs in a
transaction of its own.

An event goes to the subscriptions that existed when it was pushed (for
PushEventTx, when its statement ran), however late its fan-out runs: a
webhook registered after the push does not get it. RepushEvent sends an
event again to the subscriptions of now.

# Testing a host

Package sparrowtest has a receiver that verifies signatures and records
deliveries, waits for deliveries, and Drain, which delivers what is due
without the test running a River client.

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
