// The arithmetic behind the dashboard's SVG charts.
import type { HealthPoint } from '$gen/proto/webhook_pb';
import { toDate } from './format';

/** One minute of attempts, with the minutes the server leaves out filled in. */
export interface Minute {
  at: Date;
  attempts: number;
  successes: number;
  failures: number;
  /** The success percentage, or null without attempts. */
  successRate: number | null;
  /** The average latency in ms, or null without attempts. */
  latencyAvgMs: number | null;
}

const minuteMs = 60_000;

/**
 * minutes spreads a health timeline (attempts per minute, minutes without
 * attempts left out) over the whole window ending at now: one entry a
 * minute, oldest first, the last one the current minute.
 */
export function minutes(points: HealthPoint[], now: Date, windowSeconds: number): Minute[] {
  const count = Math.max(1, Math.round(windowSeconds / 60));
  const last = Math.floor(now.getTime() / minuteMs) * minuteMs;
  const first = last - (count - 1) * minuteMs;
  const byMinute = new Map<number, HealthPoint>();
  for (const p of points) {
    const at = toDate(p.at);
    if (!at) continue;
    byMinute.set(Math.floor(at.getTime() / minuteMs) * minuteMs, p);
  }
  const out: Minute[] = [];
  for (let t = first; t <= last; t += minuteMs) {
    const p = byMinute.get(t);
    const attempts = p?.attempts ?? 0;
    const successes = p?.successes ?? 0;
    out.push({
      at: new Date(t),
      attempts,
      successes,
      failures: Math.max(0, attempts - successes),
      successRate: attempts ? (100 * successes) / attempts : null,
      latencyAvgMs: attempts ? (p?.latencyAvgMs ?? 0) : null,
    });
  }
  return out;
}

/** niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1). */
export function niceCeil(v: number): number {
  if (!(v > 1)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) {
    if (v <= m * exp) return m * exp;
  }
  return 10 * exp;
}

/** ticks divides [0, max] into n equal steps. */
export function ticks(max: number, n = 4): number[] {
  return Array.from({ length: n + 1 }, (_, i) => (max * i) / n);
}

/**
 * axis picks a scale for values up to peak: about n round steps (1, 2 or 5
 * times a power of ten, at least minStep), and the top of the last one.
 */
export function axis(peak: number, n = 4, minStep = 1): { max: number; ticks: number[] } {
  const step = Math.max(minStep, niceCeil(peak / n));
  const steps = Math.max(1, Math.ceil(peak / step));
  return { max: step * steps, ticks: Array.from({ length: steps + 1 }, (_, i) => i * step) };
}

/** tickLabel formats an axis value compactly: 0, 5, 2.5, 1.2k. */
export function tickLabel(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return `${+v.toFixed(v < 10 && v % 1 ? 1 : 0)}`;
}

/** every picks the indexes of about n evenly spread labels out of length. */
export function every(length: number, n: number): number[] {
  if (length <= 0) return [];
  const step = Math.max(1, Math.ceil(length / n));
  const out: number[] = [];
  for (let i = length - 1; i >= 0; i -= step) out.unshift(i);
  return out;
}

/** linePath draws values (null: a gap) over width×height, scaled to [0, max]. */
export function linePath(values: (number | null)[], width: number, height: number, max: number): string {
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let d = '';
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null) {
      drawing = false;
      return;
    }
    const x = +(i * step).toFixed(1);
    const y = +(height - (Math.min(v, max) / max) * height).toFixed(1);
    d += `${drawing ? 'L' : 'M'}${x} ${y}`;
    drawing = true;
  });
  return d;
}
