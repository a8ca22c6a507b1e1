// Package subscription links webhooks to event types: which events a webhook
// receives (label filters and payload filters) and in what shape (payload
// templates).
package subscription

import (
	"time"

	"github.com/sparrowhq/sparrow/internal/validate"
)

// Subscription links a webhook to an event type in the webhook's namespace.
type Subscription struct {
	ID        string
	Namespace string
	WebhookID string
	EventName string
	// Active subscriptions create deliveries; inactive ones are kept but
	// skipped.
	Active bool
	// LabelFilter keeps events whose labels contain every key=value here; an
	// empty filter keeps all.
	LabelFilter map[string]string
	// Template, when set, is a Go text/template rendering the body sent from
	// the event's payload (see Template).
	Template string
	// Filter, when set, is a CEL expression over the event's payload and
	// labels that must be true for the event to be delivered (see Filter).
	Filter    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Matches reports whether an event with labels passes the subscription's
// label filter.
func (s *Subscription) Matches(labels map[string]string) bool {
	return MatchLabels(s.LabelFilter, labels)
}

// MatchLabels reports whether labels contain every key=value of filter.
func MatchLabels(filter, labels map[string]string) bool {
	for k, want := range filter {
		if got, ok := labels[k]; !ok || got != want {
			return false
		}
	}
	return true
}

// ValidateLabelFilter checks a label filter like an event's labels.
func ValidateLabelFilter(field string, filter map[string]string) error {
	return validate.Labels(field, filter)
}
