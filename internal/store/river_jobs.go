package store

import (
	"context"

	"github.com/sparrowhq/sparrow/internal/dbutil"
)

// JobWake makes River job id due now if it is still waiting for a later
// time (a snoozed job), and leaves it alone otherwise: one run, finished
// or cancelled since is not touched.
func JobWake(ctx context.Context, db dbutil.DB, id int64) error {
	_, err := db.Exec(ctx, `UPDATE /*schema*/river_job SET state = 'available', scheduled_at = now()
WHERE id = $1 AND state IN ('available', 'scheduled') AND scheduled_at > now()`, id)
	return dbutil.Interpret("wake job", err)
}
