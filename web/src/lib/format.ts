// Formatting figures and times for people. Pure, so tests pin them.
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';

/** toDate converts an optional protobuf Timestamp. */
export function toDate(ts: Timestamp | undefined): Date | undefined {
  return ts ? timestampDate(ts) : undefined;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** absoluteTime is a local time like "2026-11-25 13:45:07". */
export function absoluteTime(d: Date | undefined): string {
  if (!d) return '—';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** clockTime is a local time of day like "13:45". */
export function clockTime(d: Date): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** relativeTime is d relative to now: "just now", "5m ago", "in 3s", "2d ago". */
export function relativeTime(d: Date | undefined, now: Date): string {
  if (!d) return '—';
  const secs = Math.round((d.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(secs);
  if (abs < 2) return 'just now';
  let text: string;
  if (abs < 60) text = `${abs}s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)}m`;
  else if (abs < 86400) text = `${Math.floor(abs / 3600)}h`;
  else text = `${Math.floor(abs / 86400)}d`;
  return secs < 0 ? `${text} ago` : `in ${text}`;
}

/** duration formats milliseconds: "85 ms", "1.2 s", "2m 5s". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

/** seconds formats a whole number of seconds: "45s", "5m", "2h", "3d 4h". */
export function seconds(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s / 60}m`;
  if (s < 86400) return s % 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : `${s / 3600}h`;
  return s % 86400 ? `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h` : `${s / 86400}d`;
}

/** percent formats a 0–100 rate; without attempts there is no rate. */
export function percent(rate: number, attempts = 1): string {
  if (!attempts || !Number.isFinite(rate)) return '—';
  if (rate >= 100) return '100%';
  if (rate > 99.9) return '99.9%';
  return `${rate.toFixed(rate >= 10 ? 1 : 2).replace(/\.?0+$/, '')}%`;
}

/** bytes formats a size: "812 B", "1.5 KB", "2.0 MB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** count formats an integer with thousands separators: "10,000". */
export function count(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** plural is "1 webhook", "3 webhooks". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** toLocalInput formats d for an <input type="datetime-local">. */
export function toLocalInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** fromLocalInput parses an <input type="datetime-local"> value; '' or garbage gives undefined. */
export function fromLocalInput(s: string): Date | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
