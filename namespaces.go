package sparrow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/validate"
)

// NamespaceSummary is a namespace and what it holds.
type NamespaceSummary struct {
	Namespace string
	// Webhooks counts its webhooks, deleted ones left out.
	Webhooks int
	// PausedWebhooks counts those of its webhooks that are paused.
	PausedWebhooks int
	Subscriptions  int
	// LastEventAt is when its latest event was pushed; zero when it has
	// none (or retention removed them all).
	LastEventAt time.Time
}

// ListNamespacesParams selects the namespaces ListNamespaces summarizes.
type ListNamespacesParams struct {
	// Namespaces limits the listing to these, each listed even when nothing
	// uses it yet ("" is the default namespace). Empty: every namespace in
	// use.
	Namespaces []string
}

// ListNamespaces summarizes namespaces, in byte order of their names: those
// named, or every namespace in use (a live webhook, a subscription or an
// event). It stays cheap however many events there are: it counts webhooks
// and subscriptions, never events.
func (e *Engine) ListNamespaces(ctx context.Context, p ListNamespacesParams) ([]NamespaceSummary, error) {
	var only []string
	for i, ns := range p.Namespaces {
		ns, err := validate.Namespace(ns)
		if invalid := new(errs.InvalidArgumentError); errors.As(err, &invalid) {
			// The same reason, on the entry at fault.
			return nil, errs.InvalidArgument(fmt.Sprintf("namespaces[%d]", i), "%s", invalid.Reason)
		}
		if !slices.Contains(only, ns) {
			only = append(only, ns)
		}
	}
	rows, err := store.NamespaceSummarize(ctx, e.db(nil), only)
	if err != nil {
		return nil, err
	}
	out := make([]NamespaceSummary, len(rows))
	for i, r := range rows {
		out[i] = NamespaceSummary(r)
	}
	return out, nil
}
