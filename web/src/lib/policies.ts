// A webhook's delivery policies as people type and read them: the retry
// schedule (durations such as "5s, 5m, 30m, 2h") and the rate limit, with
// the pace the webhook is sent at now.
import type { HealthPoint } from '$gen/proto/webhook_pb';
import { toDate } from './format';

/** The server's bounds (webhook.MaxRetrySchedule, RetryDelayMin/Max, MaxRateLimitPerSecond). */
export const maxRetrySchedule = 20;
export const maxRateLimit = 10_000;
const second = 1e9; // in nanoseconds, as Go's time.Duration
const minute = 60 * second;
const hour = 60 * minute;
const minDelay = second;
const maxDelay = 24 * hour;

/** The attempts a webhook makes without a retry schedule (webhook.MaxAttemptsDefault). */
export const defaultAttempts = 8;

const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: second, m: minute, h: hour };
const term = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/**
 * durationNanos reads one duration as Go's time.ParseDuration does
 * ("5s", "1.5h", "1h30m", "500ms"), without a sign; undefined when it is
 * not one.
 */
export function durationNanos(text: string): number | undefined {
  if (text === '') return undefined;
  let rest = text;
  let total = 0;
  while (rest) {
    const m = term.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/** formatDuration writes nanoseconds briefly, as Go reads them back: "5s", "30m", "1h30m", "1.5s". */
export function formatDuration(ns: number): string {
  const h = Math.floor(ns / hour);
  const m = Math.floor((ns % hour) / minute);
  const rest = ns % minute;
  let out = (h ? `${h}h` : '') + (m ? `${m}m` : '');
  if (rest || !out) {
    const s = Math.floor(rest / second);
    const frac = rest % second;
    out += frac ? `${s}.${String(frac).padStart(9, '0').replace(/0+$/, '')}s` : `${s}s`;
  }
  return out;
}

export type ParsedSchedule = { ok: true; value: string[] } | { ok: false; error: string };

/**
 * parseRetrySchedule reads a retry schedule typed as durations separated by
 * commas or spaces ("5s, 5m, 30m, 2h"), checked against the server's rules:
 * each from 1s to 24h, at most 20. The value is the durations written
 * briefly; empty text is an empty schedule (the default backoff).
 */
export function parseRetrySchedule(text: string): ParsedSchedule {
  const items = text.split(/[\s,]+/).filter(Boolean);
  const value: string[] = [];
  for (const item of items) {
    const ns = durationNanos(item);
    if (ns === undefined) return { ok: false, error: `"${item}" is not a duration such as 30s, 5m or 2h.` };
    if (ns < minDelay) return { ok: false, error: `"${item}" is too short: each wait is at least 1s.` };
    if (ns > maxDelay) return { ok: false, error: `"${item}" is too long: each wait is at most 24h.` };
    value.push(formatDuration(ns));
  }
  if (value.length > maxRetrySchedule) {
    return { ok: false, error: `${value.length} waits is too many: at most ${maxRetrySchedule}.` };
  }
  return { ok: true, value };
}

/** normalSchedule writes a schedule as the server returns it ("5m0s") briefly ("5m"); what it cannot read stays as it is. */
export function normalSchedule(schedule: readonly string[]): string[] {
  return schedule.map((d) => {
    const ns = durationNanos(d);
    return ns === undefined ? d : formatDuration(ns);
  });
}

/** scheduleText is a schedule for a person: "5s, 5m, 30m, 2h", or "default backoff" when empty. */
export function scheduleText(schedule: readonly string[]): string {
  return schedule.length ? normalSchedule(schedule).join(', ') : 'default backoff';
}

/** attemptsFor is the attempt limit a schedule implies, as the server sets it: the first attempt and one per wait. */
export function attemptsFor(schedule: readonly string[]): number {
  return schedule.length ? schedule.length + 1 : defaultAttempts;
}

/**
 * pace is the requests a second sent to a webhook over the last minute:
 * the latest minute of its health timeline (oldest first), unless that
 * minute is more than 2 minutes old, when nothing is being sent.
 */
export function pace(timeline: readonly HealthPoint[], now: Date): number {
  const latest = timeline.at(-1);
  const at = toDate(latest?.at);
  if (!latest || !at || now.getTime() - at.getTime() > 2 * 60_000) return 0;
  return latest.attempts / 60;
}

/** perSecond formats a rate: "10 req/s", "9.8 req/s", "0.02 req/s". */
export function perSecond(n: number): string {
  let text: string;
  if (!Number.isFinite(n) || n <= 0) text = '0';
  else if (n < 0.1) text = n.toFixed(2).replace(/\.?0+$/, '');
  else text = n.toFixed(1).replace(/\.0$/, '');
  return `${text} req/s`;
}

/** rateLimitText is a rate limit for a person: "10 req/s", or "none" for 0. */
export function rateLimitText(limit: number): string {
  return limit > 0 ? perSecond(limit) : 'none';
}

/** paceText is the pace beside the limit: "9.8 req/s of 10 req/s", or the pace alone without a limit. */
export function paceText(current: number, limit: number): string {
  return limit > 0 ? `${perSecond(current)} of ${perSecond(limit)}` : perSecond(current);
}
