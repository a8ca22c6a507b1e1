// Recoveries: events re-sent to a webhook that missed them, run by the
// server in the background.
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { RecoverWebhookRequestSchema, Recovery } from '$gen/proto/webhook_pb';
import type { Tone } from './deliveries';
import { absoluteTime, count, fromLocalInput } from './format';

/** isRunning: the recovery is still going (and may be cancelled). */
export function isRunning(r: Pick<Recovery, 'status'>): boolean {
  return r.status === 'running';
}

/** recoveryTone is the colour a recovery's status is shown in. */
export function recoveryTone(status: string): Tone {
  switch (status) {
    case 'running':
      return 'info';
    case 'succeeded':
      return 'ok';
    case 'failed':
      return 'bad';
    default:
      return 'muted';
  }
}

/** progress is how far a recovery is, 0 to 1; undefined until its events are counted. */
export function progress(r: Pick<Recovery, 'status' | 'total' | 'done'>): number | undefined {
  if (r.total <= 0n) return r.status === 'running' ? undefined : 1;
  const p = Number(r.done) / Number(r.total);
  return Math.min(1, Math.max(0, p));
}

/** progressText is "12 / 40 events checked, 5 re-sent". */
export function progressText(r: Pick<Recovery, 'status' | 'total' | 'done' | 'resent'>): string {
  const resent = `${count(Number(r.resent))} re-sent`;
  if (r.total <= 0n) return r.status === 'running' ? 'Counting the events…' : `No events to check, ${resent}`;
  return `${count(Number(r.done))} / ${count(Number(r.total))} events checked, ${resent}`;
}

/** rangeText is the time range a recovery covers, in local time. */
export function rangeText(since: Date | undefined, until: Date | undefined): string {
  return `from ${absoluteTime(since)} ${until ? `until ${absoluteTime(until)}` : 'until it started'}`;
}

export type RecoverForm =
  | { ok: true; since: Date; until?: Date; request: MessageInitShape<typeof RecoverWebhookRequestSchema> }
  | { ok: false; field: 'since' | 'until'; error: string };

/**
 * recoverRequest checks the form's datetime-local values (until optional)
 * and makes the RecoverWebhook request.
 */
export function recoverRequest(namespace: string, webhookId: string, sinceInput: string, untilInput: string, now: Date): RecoverForm {
  const since = fromLocalInput(sinceInput);
  if (!since) return { ok: false, field: 'since', error: 'Since: pick a date and time.' };
  if (since > now) return { ok: false, field: 'since', error: 'Since: must not be in the future.' };
  let until: Date | undefined;
  if (untilInput) {
    until = fromLocalInput(untilInput);
    if (!until) return { ok: false, field: 'until', error: 'Until: pick a date and time, or leave it empty for now.' };
    if (until <= since) return { ok: false, field: 'until', error: 'Until: must be after since.' };
  }
  return {
    ok: true,
    since,
    until,
    request: {
      namespace,
      webhookId,
      since: timestampFromDate(since),
      ...(until ? { until: timestampFromDate(until) } : {}),
    },
  };
}
