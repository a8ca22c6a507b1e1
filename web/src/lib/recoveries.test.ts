import { describe, expect, it } from 'vitest';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { isRunning, progress, progressText, rangeText, recoverRequest, recoveryTone } from './recoveries';

const r = (status: string, total: number, done: number, resent: number) => ({
  status,
  total: BigInt(total),
  done: BigInt(done),
  resent: BigInt(resent),
});

describe('progress', () => {
  it('is done over total, unknown while counting', () => {
    expect(progress(r('running', 40, 10, 3))).toBe(0.25);
    expect(progress(r('running', 0, 0, 0))).toBeUndefined();
    expect(progress(r('succeeded', 0, 0, 0))).toBe(1);
    expect(progress(r('running', 10, 12, 0))).toBe(1);
  });
  it('reads as text', () => {
    expect(progressText(r('running', 1200, 12, 5))).toBe('12 / 1,200 events checked, 5 re-sent');
    expect(progressText(r('running', 0, 0, 0))).toBe('Counting the events…');
    expect(progressText(r('succeeded', 0, 0, 0))).toBe('No events to check, 0 re-sent');
  });
});

describe('status', () => {
  it('runs and colours', () => {
    expect(isRunning({ status: 'running' })).toBe(true);
    expect(isRunning({ status: 'cancelled' })).toBe(false);
    expect(['running', 'succeeded', 'failed', 'cancelled'].map(recoveryTone)).toEqual(['info', 'ok', 'bad', 'muted']);
  });
});

describe('rangeText', () => {
  it('says until when it started when there is no end', () => {
    const since = new Date(2026, 11, 1, 9, 30);
    expect(rangeText(since, undefined)).toBe('from 2026-12-01 09:30:00 until it started');
    expect(rangeText(since, new Date(2026, 11, 2, 0, 0))).toBe('from 2026-12-01 09:30:00 until 2026-12-02 00:00:00');
  });
});

describe('recoverRequest', () => {
  const now = new Date(2026, 11, 7, 12, 0);

  it('makes the request, until optional', () => {
    const res = recoverRequest('acme', 'wh_1', '2026-12-06T12:00', '', now);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.request.namespace).toBe('acme');
    expect(res.request.webhookId).toBe('wh_1');
    expect(timestampDate(res.request.since as never)).toEqual(new Date(2026, 11, 6, 12, 0));
    expect(res.request).not.toHaveProperty('until');

    const both = recoverRequest('acme', 'wh_1', '2026-12-06T12:00', '2026-12-06T18:30', now);
    expect(both.ok && timestampDate(both.request.until as never)).toEqual(new Date(2026, 11, 6, 18, 30));
  });
  it('names the field that is wrong', () => {
    expect(recoverRequest('a', 'w', '', '', now)).toMatchObject({ ok: false, field: 'since' });
    expect(recoverRequest('a', 'w', 'garbage', '', now)).toMatchObject({ ok: false, field: 'since' });
    expect(recoverRequest('a', 'w', '2026-12-08T00:00', '', now)).toMatchObject({ ok: false, field: 'since', error: expect.stringMatching(/future/) });
    expect(recoverRequest('a', 'w', '2026-12-06T12:00', '2026-12-06T12:00', now)).toMatchObject({ ok: false, field: 'until', error: expect.stringMatching(/after/) });
    expect(recoverRequest('a', 'w', '2026-12-06T12:00', 'x', now)).toMatchObject({ ok: false, field: 'until' });
  });
});
