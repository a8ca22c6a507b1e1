// Deliveries: their statuses, and the list's filters as they travel in the
// page's URL (#/ns/deliveries?status=failed&webhook=wh_...&error_class=timeout).
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Delivery, ListDeliveriesRequestSchema } from '$gen/proto/webhook_pb';
import { errorClasses, fromLocalInput } from './format';

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
  /** An event type's name. */
  type: string;
  /** The latest attempt's HTTP status, "100" to "599". */
  httpStatus: string;
  /** The latest attempt's error class (errorClasses). */
  errorClass: string;
  /** datetime-local values, local time. */
  since: string;
  until: string;
}

export const noFilters: Filters = { status: '', webhook: '', event: '', type: '', httpStatus: '', errorClass: '', since: '', until: '' };

// Each filter's name in the URL, in the order the query lists them.
const queryKeys: [keyof Filters, string][] = [
  ['status', 'status'],
  ['webhook', 'webhook'],
  ['event', 'event'],
  ['type', 'type'],
  ['httpStatus', 'http_status'],
  ['errorClass', 'error_class'],
  ['since', 'since'],
  ['until', 'until'],
];

/** validHttpStatus: s is a whole HTTP status, 100 to 599. */
export function validHttpStatus(s: string): boolean {
  return /^[1-5]\d\d$/.test(s.trim());
}

/**
 * parseFilters reads filters from a URL's query, dropping what no delivery
 * could match (unknown statuses and error classes, HTTP statuses that are
 * not one), so that a mistyped link lists everything rather than nothing.
 */
export function parseFilters(params: URLSearchParams): Filters {
  const get = (key: string) => (params.get(key) ?? '').trim();
  const status = get('status');
  const httpStatus = get('http_status');
  const errorClass = get('error_class');
  return {
    status: (statuses as readonly string[]).includes(status) ? status : '',
    webhook: get('webhook'),
    event: get('event'),
    type: get('type'),
    httpStatus: validHttpStatus(httpStatus) ? httpStatus : '',
    errorClass: (errorClasses as readonly string[]).includes(errorClass) ? errorClass : '',
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };
}

/** filterQuery is the query string for filters ('' when none is set), in a fixed order. */
export function filterQuery(f: Filters): string {
  const params = new URLSearchParams();
  for (const [field, key] of queryKeys) {
    const v = (f[field] ?? '').trim();
    if (v) params.set(key, v);
  }
  const q = params.toString();
  return q ? `?${q}` : '';
}

/** activeFilters counts the filters set. */
export function activeFilters(f: Filters): number {
  return queryKeys.filter(([field]) => (f[field] ?? '').trim()).length;
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
    eventName: f.type.trim(),
    httpStatus: validHttpStatus(f.httpStatus) ? Number(f.httpStatus) : 0,
    errorClass: f.errorClass,
    since: since ? timestampFromDate(since) : undefined,
    until: until ? timestampFromDate(until) : undefined,
    limit,
    cursor,
  };
}
