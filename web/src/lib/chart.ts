// The arithmetic behind the dashboard's SVG charts.
import type { HealthPoint } from '$gen/proto/webhook_pb';
import { toDate } from './format';

/**
 * One step of a timeline, a minute or longer, with the steps the server
 * leaves out filled in. (Named for the minutes it first held.)
 */
export interface Minute {
  at: Date;
  /** How long the step is, in ms. */
  span: number;
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
  return steps(points, now, windowSeconds, 60);
}

/**
 * steps is minutes for a timeline of longer points (ten minutes over a
 * day, an hour over a week): one entry a step, the last one the current
 * step. Points are placed by the step they start in.
 */
export function steps(points: HealthPoint[], now: Date, windowSeconds: number, stepSeconds: number): Minute[] {
  const stepMs = Math.max(1, stepSeconds) * 1000;
  const count = Math.max(1, Math.round(windowSeconds / Math.max(1, stepSeconds)));
  const last = Math.floor(now.getTime() / stepMs) * stepMs;
  const first = last - (count - 1) * stepMs;
  const byStep = new Map<number, { attempts: number; successes: number; latency: number }>();
  for (const p of points) {
    const at = toDate(p.at);
    if (!at) continue;
    const t = Math.floor(at.getTime() / stepMs) * stepMs;
    // Two points in one step (a server's finer timeline) add up.
    const b = byStep.get(t) ?? { attempts: 0, successes: 0, latency: 0 };
    b.attempts += p.attempts;
    b.successes += p.successes;
    b.latency += p.latencyAvgMs * p.attempts;
    byStep.set(t, b);
  }
  const out: Minute[] = [];
  for (let t = first; t <= last; t += stepMs) {
    const b = byStep.get(t);
    out.push(step(new Date(t), stepMs, b?.attempts ?? 0, b?.successes ?? 0, b && b.attempts ? b.latency / b.attempts : 0));
  }
  return out;
}

function step(at: Date, span: number, attempts: number, successes: number, latencyAvgMs: number): Minute {
  return {
    at,
    span,
    attempts,
    successes,
    failures: Math.max(0, attempts - successes),
    successRate: attempts ? (100 * successes) / attempts : null,
    latencyAvgMs: attempts ? latencyAvgMs : null,
  };
}

/**
 * merge joins neighbouring steps until there are at most max of them, so
 * that each bar keeps a readable width on a narrow screen. The newest step
 * stays last; the oldest group may be the short one.
 */
export function merge(series: Minute[], max: number): Minute[] {
  const k = Math.ceil(series.length / Math.max(1, max));
  if (k <= 1) return series;
  const out: Minute[] = [];
  for (let end = series.length; end > 0; end -= k) {
    const group = series.slice(Math.max(0, end - k), end);
    const attempts = group.reduce((n, m) => n + m.attempts, 0);
    const successes = group.reduce((n, m) => n + m.successes, 0);
    const latency = group.reduce((n, m) => n + (m.latencyAvgMs ?? 0) * m.attempts, 0);
    const span = group.reduce((n, m) => n + m.span, 0);
    out.unshift(step(group[0].at, span, attempts, successes, attempts ? latency / attempts : 0));
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
