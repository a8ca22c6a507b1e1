import { describe, expect, it } from 'vitest';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  absoluteTime,
  bytes,
  count,
  duration,
  fromLocalInput,
  percent,
  plural,
  relativeTime,
  seconds,
  toDate,
  toLocalInput,
} from './format';

const now = new Date(2026, 10, 25, 13, 45, 7);

describe('relativeTime', () => {
  it.each([
    [0, 'just now'],
    [-1500, 'just now'],
    [-12_000, '12s ago'],
    [-5 * 60_000, '5m ago'],
    [-3 * 3600_000, '3h ago'],
    [-2 * 86400_000, '2d ago'],
    [4_000, 'in 4s'],
    [5 * 60_000 + 20_000, 'in 5m'],
  ])('%d ms away is %s', (offset, want) => {
    expect(relativeTime(new Date(now.getTime() + offset), now)).toBe(want);
  });
  it('shows a dash for no time', () => {
    expect(relativeTime(undefined, now)).toBe('—');
  });
});

describe('absoluteTime', () => {
  it('is local, zero-padded, seconds included', () => {
    expect(absoluteTime(new Date(2026, 0, 5, 7, 8, 9))).toBe('2026-01-05 07:08:09');
    expect(absoluteTime(undefined)).toBe('—');
  });
});

describe('duration', () => {
  it.each([
    [0, '0 ms'],
    [85.4, '85 ms'],
    [999.6, '1000 ms'],
    [1234, '1.2 s'],
    [12_500, '13 s'],
    [125_000, '2m 5s'],
    [-1, '—'],
    [Number.NaN, '—'],
  ])('%d ms is %s', (ms, want) => expect(duration(ms)).toBe(want));
});

describe('seconds', () => {
  it.each([
    [45, '45s'],
    [300, '5m'],
    [330, '5m 30s'],
    [3600, '1h'],
    [5400, '1h 30m'],
    [86400 * 3, '3d'],
    [86400 + 7200, '1d 2h'],
  ])('%d is %s', (s, want) => expect(seconds(s)).toBe(want));
});

describe('percent', () => {
  it('has no rate without attempts', () => expect(percent(0, 0)).toBe('—'));
  it.each([
    [100, '100%'],
    [99.95, '99.9%'],
    [95.24, '95.2%'],
    [50, '50%'],
    [0, '0%'],
    [2.5, '2.5%'],
  ])('%d is %s', (rate, want) => expect(percent(rate, 10)).toBe(want));
});

describe('sizes and counts', () => {
  it('formats bytes', () => {
    expect(bytes(812)).toBe('812 B');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(bytes(2 * 1024 * 1024)).toBe('2.0 MB');
  });
  it('separates thousands', () => {
    expect(count(10000)).toBe('10,000');
    expect(count(999)).toBe('999');
    expect(count(1234567)).toBe('1,234,567');
  });
  it('pluralises', () => {
    expect(plural(1, 'webhook')).toBe('1 webhook');
    expect(plural(3, 'delivery', 'deliveries')).toBe('3 deliveries');
  });
});

describe('datetime-local values', () => {
  it('round-trip to the minute', () => {
    const d = new Date(2026, 10, 25, 9, 5);
    expect(toLocalInput(d)).toBe('2026-11-25T09:05');
    expect(fromLocalInput('2026-11-25T09:05')?.getTime()).toBe(d.getTime());
  });
  it('ignore empty and broken values', () => {
    expect(fromLocalInput('')).toBeUndefined();
    expect(fromLocalInput('yesterday')).toBeUndefined();
  });
});

describe('toDate', () => {
  it('converts protobuf timestamps', () => {
    const d = new Date(Date.UTC(2026, 10, 25, 12, 0, 0, 250));
    expect(toDate(timestampFromDate(d))?.getTime()).toBe(d.getTime());
    expect(toDate(undefined)).toBeUndefined();
  });
});
