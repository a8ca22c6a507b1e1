import { describe, expect, it } from 'vitest';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { filterQuery, isFiltered, isFinished, listRequest, noFilters, parseFilters, statusTone, waitingForKey } from './deliveries';

describe('statuses', () => {
  it('knows which are finished', () => {
    expect(['succeeded', 'failed', 'expired', 'cancelled'].every(isFinished)).toBe(true);
    expect(['pending', 'retrying'].some(isFinished)).toBe(false);
  });
  it('colours them', () => {
    expect(statusTone('succeeded')).toBe('ok');
    expect(statusTone('retrying')).toBe('warn');
    expect(statusTone('failed')).toBe('bad');
    expect(statusTone('pending')).toBe('info');
    expect(statusTone('cancelled')).toBe('muted');
  });
});

describe('waitingForKey', () => {
  it('names the delivery an unfinished one waits for', () => {
    expect(waitingForKey({ status: 'pending', waitsFor: 'dlv_1' })).toBe('dlv_1');
    expect(waitingForKey({ status: 'pending', waitsFor: '' })).toBe('');
    // Cancelled while it waited: it waits for nothing any more.
    expect(waitingForKey({ status: 'cancelled', waitsFor: 'dlv_1' })).toBe('');
  });
});

describe('filters in the URL', () => {
  it('round-trip', () => {
    const f = { status: 'failed', webhook: 'wh_1', event: 'evt_2', since: '2026-11-25T09:00', until: '' };
    const q = filterQuery(f);
    expect(q).toBe('?status=failed&webhook=wh_1&event=evt_2&since=2026-11-25T09%3A00');
    expect(parseFilters(new URLSearchParams(q.slice(1)))).toEqual(f);
  });
  it('are empty when nothing is set', () => {
    expect(filterQuery(noFilters)).toBe('');
    expect(isFiltered(noFilters)).toBe(false);
    expect(isFiltered({ ...noFilters, webhook: ' wh_1 ' })).toBe(true);
  });
  it('drop unknown statuses and trim ids', () => {
    expect(parseFilters(new URLSearchParams('status=bogus&webhook=%20wh_1%20'))).toEqual({ ...noFilters, webhook: 'wh_1' });
  });
});

describe('listRequest', () => {
  it('turns filters into a ListDeliveries request', () => {
    const req = listRequest('acme', { status: 'retrying', webhook: 'wh_1', event: '', since: '2026-11-25T09:30', until: '' }, 25, 'cur');
    expect(req).toMatchObject({ namespace: 'acme', status: 'retrying', webhookId: 'wh_1', eventId: '', limit: 25, cursor: 'cur', until: undefined });
    expect(timestampDate(req.since as never).getTime()).toBe(new Date(2026, 10, 25, 9, 30).getTime());
  });
});
