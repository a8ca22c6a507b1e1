// Deliveries: their statuses, and the list's filters as they travel in the
// page's URL (#/ns/deliveries?status=failed&webhook=wh_...).
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Delivery, ListDeliveriesRequestSchema } from '$gen/proto/webhook_pb';
import { fromLocalInput } from './format';

export const statuses = ['pending', 'retrying', 'succeeded', 'failed', 'expired', 'cancelled'] as const;
export type Status = (typeof statuses)[number];

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

/** statusTone is the colour a delivery status is shown in. */
export function statusTone(status: string): Tone {
  switch (status) {
    case 'succeeded':
      return 'ok';
    case 'retrying':
      return 'warn';
    case 'failed':
    case 'expired':
      return 'bad';
    case 'pending':
      return 'info';
    default:
      return 'muted';
  }
}

/** isFinished: the delivery makes no more attempts by itself (and Retry gives it a fresh run). */
export function isFinished(status: string): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'expired' || status === 'cancelled';
}

/**
 * waitingForKey is the delivery before d (of its ordering key, to its
 * webhook) that must end before d is attempted; '' when d may go.
 */
export function waitingForKey(d: Pick<Delivery, 'status' | 'waitsFor'>): string {
  return isFinished(d.status) ? '' : d.waitsFor;
}

export interface Filters {
  status: string;
  webhook: string;
  event: string;
  /** datetime-local values, local time. */
  since: string;
  until: string;
}

export const noFilters: Filters = { status: '', webhook: '', event: '', since: '', until: '' };

/** parseFilters reads filters from a URL's query, dropping unknown statuses. */
export function parseFilters(params: URLSearchParams): Filters {
  const status = params.get('status') ?? '';
  return {
    status: (statuses as readonly string[]).includes(status) ? status : '',
    webhook: (params.get('webhook') ?? '').trim(),
    event: (params.get('event') ?? '').trim(),
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };
}

/** filterQuery is the query string for filters ('' when none is set), in a fixed order. */
export function filterQuery(f: Filters): string {
  const params = new URLSearchParams();
  for (const key of ['status', 'webhook', 'event', 'since', 'until'] as const) {
    const v = f[key].trim();
    if (v) params.set(key, v);
  }
  const q = params.toString();
  return q ? `?${q}` : '';
}

/** isFiltered: some filter is set. */
export function isFiltered(f: Filters): boolean {
  return filterQuery(f) !== '';
}

/** listRequest is the ListDeliveries request for filters. */
export function listRequest(
  namespace: string,
  f: Filters,
  limit: number,
  cursor: string,
): MessageInitShape<typeof ListDeliveriesRequestSchema> {
  const since = fromLocalInput(f.since);
  const until = fromLocalInput(f.until);
  return {
    namespace,
    status: f.status,
    webhookId: f.webhook.trim(),
    eventId: f.event.trim(),
    since: since ? timestampFromDate(since) : undefined,
    until: until ? timestampFromDate(until) : undefined,
    limit,
    cursor,
  };
}
