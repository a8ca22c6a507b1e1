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

// The prefix Go's url.Error puts before a failure: `Post "http://…": `.
// Sparrow leaves it out now; older records still carry it.
const requestPrefix = /^(?:url:\s*)?(?:(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) "[^"]*":\s*)/i;

/** capitalize makes the first letter a capital, for a sentence of its own. */
export function capitalize(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

/**
 * attemptError puts an attempt's error in people's words, for records
 * older than the server's own wording too: without the method and URL Go
 * repeats (the page shows them), a timeout as "No answer within 30 s" (the
 * seconds from how long the attempt took), and the network's jargon as
 * what happened. errorClass is the attempt's (delivery/class.go);
 * durationMs how long it took, if known.
 */
export function attemptError(message: string, errorClass = '', durationMs?: number): string {
  let s = message.trim();
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(requestPrefix, '').replace(/^url:\s*/i, '').replace(/^net\/http:\s*/, '').trim();
  }
  // Go's own words for a timeout: said again as what the receiver did.
  if (/deadline exceeded|Client\.Timeout|timeout awaiting|i\/o timeout/i.test(s) || (errorClass === 'timeout' && !s)) {
    const secs = durationMs && durationMs > 0 ? Math.max(1, Math.round(durationMs / 1000)) : 0;
    return secs ? `No answer within ${secs} s` : 'No answer in time';
  }
  // A newer server's words ("no answer within 30s"), with the unit apart.
  s = s.replace(/\bwithin (\d+(?:\.\d+)?)(ms|s)\b/g, 'within $1 $2');
  // Go's wording of the usual network failures; a message already in
  // people's words (newer servers write them) is kept.
  if (/connect: connection refused/i.test(s)) {
    const at = /dial \w+ (\S+?): /.exec(s)?.[1];
    return `Connection refused: nothing listens at ${at ?? 'that address'}`;
  }
  const lookup = /^(?:dial \w+: )?lookup ([^\s:]+)(?: on \S+)?: no such host$/.exec(s);
  if (lookup) return `The host name ${lookup[1]} does not resolve`;
  if (/connection reset by peer|broken pipe/i.test(s)) return 'The receiver reset the connection';
  if (/^(?:unexpected )?EOF$/.test(s)) return 'The connection closed before a whole answer';
  if (/^tls: |\bx509: /.test(s)) return `TLS failed: ${s.replace(/^tls:\s*/, '').replace(/\bx509:\s*/g, '')}`;
  if (!s) return errorClass ? capitalize(errorClassText(errorClass)) : '';
  return capitalize(s);
}

/** The classes of failed attempts (delivery/class.go), as the filters offer them. */
export const errorClasses = [
  'timeout',
  'dns',
  'tls',
  'connection_refused',
  'connection_reset',
  'connection_closed',
  'network',
  'blocked_destination',
  'http_3xx',
  'http_4xx',
  'http_5xx',
  'transform',
] as const;

const classText: Record<string, string> = {
  timeout: 'timeout',
  dns: 'DNS',
  tls: 'TLS',
  connection_refused: 'connection refused',
  connection_reset: 'connection reset',
  connection_closed: 'connection closed',
  network: 'network',
  blocked_destination: 'blocked address',
  http_3xx: 'HTTP 3xx',
  http_4xx: 'HTTP 4xx',
  http_5xx: 'HTTP 5xx',
  transform: 'template failed',
};

const classHelp: Record<string, string> = {
  timeout: 'no answer in time',
  dns: 'the host name does not resolve',
  tls: 'handshake or certificate',
  connection_refused: 'nothing listens there',
  connection_reset: 'the receiver hung up',
  connection_closed: 'closed before a whole answer',
  network: 'any other network failure',
  blocked_destination: 'a private address, not allowed',
  http_3xx: 'a redirect, not followed',
  http_4xx: 'client errors',
  http_5xx: 'server errors',
  transform: 'the payload template failed: nothing sent',
};

/** errorClassText is an error class in a word or two: "connection refused", "HTTP 5xx". */
export function errorClassText(cls: string): string {
  return classText[cls] ?? cls.replace(/_/g, ' ');
}

/** errorClassLabel is an error class with what it means, for a picker: "Timeout (no answer in time)". */
export function errorClassLabel(cls: string): string {
  const help = classHelp[cls];
  return capitalize(errorClassText(cls)) + (help ? ` (${help})` : '');
}

const reasons: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** statusText names an HTTP status for a breakdown: "503 Service Unavailable"; "none" is no answer. */
export function statusText(code: string): string {
  if (code === 'none' || code === '' || code === '0') return 'No answer';
  const reason = reasons[Number(code)];
  return reason ? `${code} ${reason}` : code;
}

/**
 * attemptsText counts a delivery's attempts against its maximum: "2 of 5".
 * Retries by hand are apart (they leave the maximum as it was): made is
 * every attempt listed, counted those the maximum bounds. A server that
 * counts them all shows as many made as counted, past the maximum.
 */
export function attemptsText(made: number, counted: number, max: number): string {
  const byHand = made - counted;
  if (byHand > 0) return `${count(counted)} of ${count(max)}, and ${count(byHand)} by hand`;
  if (counted > max) return `${count(counted)}: ${count(max)} planned, ${count(counted - max)} more by hand`;
  return `${count(counted)} of ${count(max)}`;
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** dayTime is a local day of the week and time: "Tue 13:45". */
export function dayTime(d: Date): string {
  return `${days[d.getDay()]} ${clockTime(d)}`;
}
