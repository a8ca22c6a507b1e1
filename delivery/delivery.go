// Package delivery holds deliveries, the record of sending one event to one
// webhook, and what sending involves: the HTTP sender with its destination
// guard, Standard Webhooks signing, the classification of failures and the
// retry policy.
package delivery

import (
	"encoding/json"
	"time"
)

// Status is where a delivery stands.
type Status string

const (
	// StatusPending deliveries have not been attempted yet.
	StatusPending Status = "pending"
	// StatusRetrying deliveries failed at least once and will be tried again.
	StatusRetrying Status = "retrying"
	// StatusSucceeded deliveries got a 2xx answer.
	StatusSucceeded Status = "succeeded"
	// StatusFailed deliveries failed in a way not worth retrying, or used up
	// their attempts.
	StatusFailed Status = "failed"
	// StatusExpired deliveries were not sent because their event's time to
	// live ran out.
	StatusExpired Status = "expired"
	// StatusCancelled deliveries were dropped because their webhook was
	// deleted.
	StatusCancelled Status = "cancelled"
)

// Final reports whether a delivery in status s is done: no job will touch it
// again unless it is retried by hand.
func (s Status) Final() bool {
	return s != StatusPending && s != StatusRetrying
}

// ValidStatus reports whether s is one of the statuses above.
func ValidStatus(s Status) bool {
	switch s {
	case StatusPending, StatusRetrying, StatusSucceeded, StatusFailed, StatusExpired, StatusCancelled:
		return true
	}
	return false
}

// Delivery is the sending of one event to one webhook, over one or more
// attempts.
type Delivery struct {
	// ID is also the webhook-id header receivers see, the same on every
	// attempt, so they can de-duplicate.
	ID             string
	Namespace      string
	WebhookID      string
	EventID        string
	EventName      string
	SubscriptionID string
	Status         Status
	// Body is the exact body sent: the event's payload, or what the
	// subscription's template rendered. Listings leave it nil.
	Body json.RawMessage
	// AttemptCount counts the automatic attempts, those that MaxAttempts
	// bounds and the retry schedule follows ("2 of 2").
	AttemptCount int
	MaxAttempts  int
	// ManualAttemptCount counts the attempts asked for by hand
	// (Engine.RetryDelivery, Engine.RetryFailedDeliveries), apart: they
	// leave the limit and the schedule as they were.
	ManualAttemptCount int
	// RetryRequested is true while a manual attempt has been asked for and
	// not made yet.
	RetryRequested bool
	// Waiting is true while the delivery waits for its paused or disabled
	// webhook to be resumed.
	Waiting bool
	// OrderingKey is its event's ordering key, if any: the deliveries of
	// one key to one webhook go one at a time, in order.
	OrderingKey string
	// WaitsFor is the delivery of the same ordering key and webhook that
	// must end (succeed, fail, expire or be cancelled) before this one is
	// attempted; empty once it may go.
	WaitsFor string
	// ExpiresAt is when the delivery stops being attempted; zero: never.
	ExpiresAt      time.Time
	NextAttemptAt  time.Time
	LastAttemptAt  time.Time
	LastStatusCode int
	LastErrorClass ErrorClass
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    time.Time
	// Attempts are filled by GetDelivery, oldest first.
	Attempts []Attempt
}

// Attempt is one HTTP request of a delivery and what came of it.
type Attempt struct {
	DeliveryID string
	// Number counts from 1, manual attempts included.
	Number int
	// Manual is true for an attempt asked for by hand: it does not count
	// against the delivery's MaxAttempts.
	Manual     bool
	WebhookID  string
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int
	ErrorClass ErrorClass
	Error      string
	// RequestHeaders are the headers sent, custom header values masked.
	RequestHeaders  map[string]string
	ResponseHeaders map[string]string
	// ResponseBody is the start of the response body, at most the engine's
	// response body limit.
	ResponseBody          []byte
	ResponseBodyTruncated bool
	// NextAttemptAt is when the next attempt was scheduled; zero if none.
	NextAttemptAt time.Time
}

// Exhausted describes a delivery that used up its attempts, for the host's
// sparrow.WithOnDeliveryExhausted callback.
type Exhausted struct {
	DeliveryID     string
	Namespace      string
	WebhookID      string
	EventID        string
	EventName      string
	Attempts       int
	LastStatusCode int
	LastErrorClass ErrorClass
	LastError      string
}
