import { describe, expect, it } from 'vitest';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { activeFilters, filterQuery, isFiltered, isFinished, listRequest, noFilters, parseFilters, statusTone, validHttpStatus, waitingForKey } from './deliveries';
import { errorClasses } from './format';

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
    const f = { ...noFilters, status: 'failed', webhook: 'wh_1', event: 'evt_2', since: '2026-11-25T09:00' };
    const q = filterQuery(f);
    expect(q).toBe('?status=failed&webhook=wh_1&event=evt_2&since=2026-11-25T09%3A00');
    expect(parseFilters(new URLSearchParams(q.slice(1)))).toEqual(f);
  });
  it('carry the event type, HTTP status and error class', () => {
    const f = { ...noFilters, type: 'order.created', httpStatus: '503', errorClass: 'http_5xx' };
    const q = filterQuery(f);
    expect(q).toBe('?type=order.created&http_status=503&error_class=http_5xx');
    expect(parseFilters(new URLSearchParams(q.slice(1)))).toEqual(f);
    expect(activeFilters(f)).toBe(3);
  });
  it('are empty when nothing is set', () => {
    expect(filterQuery(noFilters)).toBe('');
    expect(isFiltered(noFilters)).toBe(false);
    expect(activeFilters(noFilters)).toBe(0);
    expect(isFiltered({ ...noFilters, webhook: ' wh_1 ' })).toBe(true);
  });
  it('drop unknown statuses and error classes, HTTP statuses that are not one, and trim', () => {
    expect(parseFilters(new URLSearchParams('status=bogus&webhook=%20wh_1%20'))).toEqual({ ...noFilters, webhook: 'wh_1' });
    expect(parseFilters(new URLSearchParams('error_class=explosion&http_status=abc&type=%20a.b%20'))).toEqual({ ...noFilters, type: 'a.b' });
    for (const bad of ['99', '600', '5000', '20x', '-200', '2.5']) {
      expect(parseFilters(new URLSearchParams(`http_status=${bad}`)).httpStatus).toBe('');
    }
    expect(parseFilters(new URLSearchParams('http_status=%20404%20')).httpStatus).toBe('404');
    expect(parseFilters(new URLSearchParams('error_class=connection_refused')).errorClass).toBe('connection_refused');
  });
  it('know every error class the engine records', () => {
    expect(errorClasses).toEqual(expect.arrayContaining(['timeout', 'dns', 'tls', 'connection_refused', 'connection_reset', 'connection_closed', 'network', 'http_4xx', 'http_5xx']));
  });
});

describe('validHttpStatus', () => {
  it('takes 100 to 599', () => {
    expect(['100', '200', '404', '599'].every(validHttpStatus)).toBe(true);
    expect(['', '0', '99', '600', 'abc', '20'].some(validHttpStatus)).toBe(false);
  });
});

describe('listRequest', () => {
  it('turns filters into a ListDeliveries request', () => {
    const req = listRequest('acme', { ...noFilters, status: 'retrying', webhook: 'wh_1', since: '2026-11-25T09:30' }, 25, 'cur');
    expect(req).toMatchObject({ namespace: 'acme', status: 'retrying', webhookId: 'wh_1', eventId: '', limit: 25, cursor: 'cur', until: undefined });
    expect(timestampDate(req.since as never).getTime()).toBe(new Date(2026, 10, 25, 9, 30).getTime());
  });
  it('sends the event type, HTTP status and error class', () => {
    const req = listRequest('acme', { ...noFilters, type: 'order.paid', httpStatus: '404', errorClass: 'http_4xx' }, 25, '');
    expect(req).toMatchObject({ eventName: 'order.paid', httpStatus: 404, errorClass: 'http_4xx' });
    expect(listRequest('acme', noFilters, 25, '')).toMatchObject({ eventName: '', httpStatus: 0, errorClass: '' });
  });
});
