import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { HealthPointSchema } from '$gen/proto/webhook_pb';
import { axis, every, merge, minutes, niceCeil, steps, tickLabel, ticks } from './chart';

const point = (at: Date, attempts: number, successes: number, latencyAvgMs = 100) =>
  create(HealthPointSchema, { at: timestampFromDate(at), attempts, successes, latencyAvgMs });

describe('minutes', () => {
  const now = new Date(Date.UTC(2026, 10, 25, 12, 30, 42));

  it('spans the window a minute a step, ending with the current minute', () => {
    const out = minutes([], now, 3600);
    expect(out).toHaveLength(60);
    expect(out[59].at.toISOString()).toBe('2026-11-25T12:30:00.000Z');
    expect(out[0].at.toISOString()).toBe('2026-11-25T11:31:00.000Z');
    expect(out.every((m) => m.attempts === 0 && m.successRate === null && m.latencyAvgMs === null)).toBe(true);
  });

  it('puts the points in their minutes and derives failures and rates', () => {
    const out = minutes(
      [point(new Date(Date.UTC(2026, 10, 25, 12, 28)), 4, 3, 120), point(new Date(Date.UTC(2026, 10, 25, 12, 30)), 2, 0, 900)],
      now,
      600,
    );
    expect(out).toHaveLength(10);
    expect(out[7]).toMatchObject({ attempts: 4, successes: 3, failures: 1, successRate: 75, latencyAvgMs: 120 });
    expect(out[8]).toMatchObject({ attempts: 0, successRate: null });
    expect(out[9]).toMatchObject({ attempts: 2, failures: 2, successRate: 0, latencyAvgMs: 900 });
  });

  it('leaves out points outside the window', () => {
    const out = minutes([point(new Date(Date.UTC(2026, 10, 25, 10, 0)), 5, 5)], now, 600);
    expect(out.reduce((n, m) => n + m.attempts, 0)).toBe(0);
  });
});

describe('scales', () => {
  it.each([
    [0, 1],
    [1, 1],
    [3, 5],
    [7, 10],
    [12, 20],
    [180, 200],
    [201, 500],
    [1000, 1000],
  ])('niceCeil(%d) is %d', (v, want) => expect(niceCeil(v)).toBe(want));

  it.each([
    [0, 1, [0, 1]],
    [1, 1, [0, 1]],
    [3, 3, [0, 1, 2, 3]],
    [27, 30, [0, 10, 20, 30]],
    [50, 60, [0, 20, 40, 60]],
    [106, 150, [0, 50, 100, 150]],
    [2400, 3000, [0, 1000, 2000, 3000]],
  ])('axis(%d) tops at %d', (peak, max, want) => {
    expect(axis(peak)).toEqual({ max, ticks: want });
  });

  it('divides evenly', () => {
    expect(ticks(200, 4)).toEqual([0, 50, 100, 150, 200]);
  });

  it('labels compactly', () => {
    expect(tickLabel(0)).toBe('0');
    expect(tickLabel(2.5)).toBe('2.5');
    expect(tickLabel(1500)).toBe('1.5k');
    expect(tickLabel(50)).toBe('50');
  });

  it('spreads labels, always keeping the last', () => {
    expect(every(60, 6)).toEqual([9, 19, 29, 39, 49, 59]);
    expect(every(3, 6)).toEqual([0, 1, 2]);
    expect(every(0, 6)).toEqual([]);
  });
});

describe('steps', () => {
  const now = new Date(Date.UTC(2026, 10, 25, 12, 34, 5));

  it('spans a day in ten-minute steps, the last the current one', () => {
    const out = steps([point(new Date(Date.UTC(2026, 10, 25, 12, 20)), 3, 2, 50)], now, 86400, 600);
    expect(out).toHaveLength(144);
    expect(out[143].at.toISOString()).toBe('2026-11-25T12:30:00.000Z');
    expect(out[143].span).toBe(600_000);
    expect(out[142]).toMatchObject({ attempts: 3, successes: 2, failures: 1, latencyAvgMs: 50 });
  });
  it('adds up finer points that fall in one step, weighting latency by attempts', () => {
    const out = steps(
      [point(new Date(Date.UTC(2026, 10, 25, 11, 5)), 1, 1, 100), point(new Date(Date.UTC(2026, 10, 25, 11, 40)), 3, 0, 300)],
      now,
      604800,
      3600,
    );
    expect(out).toHaveLength(168);
    expect(out[166]).toMatchObject({ attempts: 4, successes: 1, failures: 3, successRate: 25, latencyAvgMs: 250 });
  });
});

describe('merge', () => {
  const now = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));
  const series = minutes([point(new Date(Date.UTC(2026, 10, 25, 11, 59)), 2, 2, 100), point(new Date(Date.UTC(2026, 10, 25, 12, 0)), 2, 0, 300)], now, 600);

  it('leaves a series that fits', () => {
    expect(merge(series, 10)).toBe(series);
  });
  it('joins neighbours, the newest step last', () => {
    const out = merge(series, 4);
    expect(out).toHaveLength(4);
    expect(out[3]).toMatchObject({ attempts: 4, successes: 2, failures: 2, successRate: 50, latencyAvgMs: 200, span: 180_000 });
    expect(out[3].at.toISOString()).toBe('2026-11-25T11:58:00.000Z');
    // The oldest group is the short one.
    expect(out[0].span).toBe(60_000);
    expect(out.reduce((n, m) => n + m.span, 0)).toBe(600_000);
  });
});
