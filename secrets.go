package sparrow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
	"github.com/sparrowhq/sparrow/internal/secretbox"
	"github.com/sparrowhq/sparrow/internal/store"
	"github.com/sparrowhq/sparrow/internal/worker"
)

// SecretKey is a key webhook secrets and custom header values are encrypted
// with at rest (AES-256-GCM): 32 random bytes, and an id stored beside each
// value it seals so that keys can be rotated.
type SecretKey struct {
	ID  string
	Key []byte
}

// newSecret makes the stored form of a webhook's new signing secret:
// sealed when the engine has keys, else in the clear.
func (e *Engine) newSecret(webhookID, value string) store.WebhookSecret {
	s := store.WebhookSecret{Stored: secretbox.Stored{ID: ids.New(ids.Secret)}, CreatedAt: e.now()}
	if e.secretKeys == nil {
		s.Plain = value
		return s
	}
	s.KeyID, s.Sealed = e.secretKeys.Seal([]byte(value), secretbox.AAD(webhookID, s.ID))
	return s
}

// RevealWebhookSecret returns a webhook's current signing secret: the one
// call besides RegisterWebhook and RotateWebhookSecret that returns it, for
// a dashboard's "reveal" button.
func (e *Engine) RevealWebhookSecret(ctx context.Context, namespace, id string) (string, error) {
	namespace, err := validateRef(namespace, "webhook_id", ids.Webhook, id)
	if err != nil {
		return "", err
	}
	db := e.db(nil)
	if _, err := store.WebhookGet(ctx, db, namespace, id, false); err != nil {
		return "", err
	}
	secrets, err := store.WebhookSecretListActive(ctx, db, id, e.now())
	if err != nil {
		return "", err
	}
	if len(secrets) == 0 {
		return "", errs.FailedPrecondition("webhook %s has no signing secret", id)
	}
	secret, err := secretbox.Reveal(e.secretKeys, id, secrets[0].Stored)
	if err != nil {
		return "", fmt.Errorf("sparrow: reveal secret of %s: %w", id, err)
	}
	return secret, nil
}

// ResealSecrets seals, with the current key of WithSecretKeys, every
// webhook signing secret and every webhook's custom headers stored in the
// clear or sealed with an older key, and returns how many it sealed: the
// secrets, plus one per webhook whose headers it sealed. Run it after
// adding or rotating keys; Start runs it in the background. Afterwards the
// older keys can be dropped from WithSecretKeys. It does nothing when the
// engine has no keys.
func (e *Engine) ResealSecrets(ctx context.Context) (int, error) {
	if e.secretKeys == nil {
		return 0, nil
	}
	secrets, headers, err := worker.Reseal(ctx, e.pool, e.schema, e.secretKeys)
	return secrets + headers, err
}

// ErrMissingSecretKey is returned by Start when stored secrets or custom
// headers are sealed with a key the engine was not given: they could not be
// opened, and their webhooks' deliveries would wait.
var ErrMissingSecretKey = errors.New("sparrow: secrets are sealed with a key the engine does not have")

// checkSecretKeys returns ErrMissingSecretKey, naming the keys, when what is
// stored was sealed with a key the engine lacks.
func (e *Engine) checkSecretKeys(ctx context.Context) error {
	inUse, err := store.SecretKeyIDsInUse(ctx, e.db(nil))
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range inUse {
		if id != "" && !e.secretKeys.Has(id) {
			missing = append(missing, strconv.Quote(id))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: key %s; give it as a previous key (WithSecretKeys, SPARROW_SECRET_KEYS) until ResealSecrets has moved everything to the current one",
			ErrMissingSecretKey, strings.Join(missing, ", "))
	}
	return nil
}
