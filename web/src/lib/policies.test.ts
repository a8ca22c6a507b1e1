import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { HealthPointSchema } from '$gen/proto/webhook_pb';
import {
  attemptsFor,
  durationNanos,
  formatDuration,
  normalSchedule,
  pace,
  paceText,
  parseRetrySchedule,
  perSecond,
  rateLimitText,
  scheduleText,
} from './policies';

describe('parseRetrySchedule', () => {
  it('reads durations separated by commas, spaces or both', () => {
    expect(parseRetrySchedule('5s, 5m, 30m, 2h')).toEqual({ ok: true, value: ['5s', '5m', '30m', '2h'] });
    expect(parseRetrySchedule('5s 5m\t30m,2h')).toEqual({ ok: true, value: ['5s', '5m', '30m', '2h'] });
    expect(parseRetrySchedule(' ,5s,, 10s , ')).toEqual({ ok: true, value: ['5s', '10s'] });
  });
  it('is empty for empty text: the default backoff', () => {
    expect(parseRetrySchedule('')).toEqual({ ok: true, value: [] });
    expect(parseRetrySchedule(' , ')).toEqual({ ok: true, value: [] });
  });
  it('reads what Go reads, and writes it briefly', () => {
    expect(parseRetrySchedule('90s 1h30m 1.5h 1500ms 5m0s 24h')).toEqual({ ok: true, value: ['1m30s', '1h30m', '1h30m', '1.5s', '5m', '24h'] });
  });
  it('names an item that is not a duration', () => {
    for (const bad of ['5', '5x', 'five', '5 s', '-5s', '5S', 's']) {
      const got = parseRetrySchedule(`10s, ${bad}`);
      expect(got.ok, bad).toBe(false);
      if (!got.ok) expect(got.error).toMatch(/is not a duration such as 30s, 5m or 2h/);
    }
    expect(parseRetrySchedule('10s, 5x, 1m')).toEqual({ ok: false, error: '"5x" is not a duration such as 30s, 5m or 2h.' });
  });
  it('keeps each wait from 1s to 24h', () => {
    expect(parseRetrySchedule('1s 24h').ok).toBe(true);
    expect(parseRetrySchedule('5s, 500ms')).toEqual({ ok: false, error: '"500ms" is too short: each wait is at least 1s.' });
    expect(parseRetrySchedule('25h')).toEqual({ ok: false, error: '"25h" is too long: each wait is at most 24h.' });
    expect(parseRetrySchedule('24h1s').ok).toBe(false);
    expect(parseRetrySchedule('0s').ok).toBe(false);
  });
  it('takes at most 20 waits', () => {
    expect(parseRetrySchedule(Array(20).fill('1m').join(','))).toMatchObject({ ok: true });
    expect(parseRetrySchedule(Array(21).fill('1m').join(','))).toEqual({ ok: false, error: '21 waits is too many: at most 20.' });
  });
});

describe('durations', () => {
  it('read as Go reads them', () => {
    expect(durationNanos('1h30m')).toBe(5400e9);
    expect(durationNanos('.5s')).toBe(0.5e9);
    expect(durationNanos('2us')).toBe(2000);
    expect(durationNanos('')).toBeUndefined();
    expect(durationNanos('1h 30m')).toBeUndefined();
  });
  it('written briefly', () => {
    expect(formatDuration(5e9)).toBe('5s');
    expect(formatDuration(3600e9)).toBe('1h');
    expect(formatDuration(3723e9)).toBe('1h2m3s');
    expect(formatDuration(1.25e9)).toBe('1.25s');
    expect(formatDuration(0)).toBe('0s');
  });
  it("turn the server's 5m0s into 5m", () => {
    expect(normalSchedule(['5s', '5m0s', '2h0m0s', '1h30m0s', 'odd'])).toEqual(['5s', '5m', '2h', '1h30m', 'odd']);
    expect(scheduleText(['5s', '5m0s', '30m0s', '2h0m0s'])).toBe('5s, 5m, 30m, 2h');
    expect(scheduleText([])).toBe('default backoff');
  });
});

describe('attemptsFor', () => {
  it('is one more than the waits, or the default', () => {
    expect(attemptsFor(['5s', '5m', '30m', '2h'])).toBe(5);
    expect(attemptsFor([])).toBe(8);
  });
});

describe('pace', () => {
  const now = new Date('2026-12-07T12:00:30Z');
  const point = (at: string, attempts: number) => create(HealthPointSchema, { at: timestampFromDate(new Date(at)), attempts });

  it("is the latest minute's attempts a second", () => {
    const timeline = [point('2026-12-07T11:58:00Z', 6000), point('2026-12-07T11:59:00Z', 588)];
    expect(pace(timeline, now)).toBeCloseTo(9.8);
  });
  it('is 0 once the latest minute is more than 2 minutes old, or without one', () => {
    expect(pace([point('2026-12-07T11:58:30Z', 600)], now)).toBe(10);
    expect(pace([point('2026-12-07T11:58:29Z', 600)], now)).toBe(0);
    expect(pace([], now)).toBe(0);
  });
  it('reads beside the limit', () => {
    expect(paceText(588 / 60, 10)).toBe('9.8 req/s of 10 req/s');
    expect(paceText(0, 10)).toBe('0 req/s of 10 req/s');
    expect(paceText(2.5, 0)).toBe('2.5 req/s');
  });
});

describe('rates', () => {
  it('are written briefly', () => {
    expect(perSecond(10)).toBe('10 req/s');
    expect(perSecond(1 / 60)).toBe('0.02 req/s');
    expect(perSecond(166.6666)).toBe('166.7 req/s');
    expect(perSecond(0)).toBe('0 req/s');
    expect(rateLimitText(0)).toBe('none');
    expect(rateLimitText(250)).toBe('250 req/s');
  });
});
