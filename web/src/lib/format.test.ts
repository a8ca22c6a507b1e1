import { describe, expect, it } from 'vitest';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  absoluteTime,
  attemptError,
  attemptsText,
  capitalize,
  dayTime,
  errorClassLabel,
  errorClassText,
  statusText,
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

describe('attemptError', () => {
  it('drops the method and URL Go repeats, even in old records', () => {
    expect(attemptError('Post "http://127.0.0.1:9/hook": stopped after 10 redirects', 'network')).toBe('Stopped after 10 redirects');
    expect(attemptError('url: Post "https://example.com/a?b=c": something odd', 'network')).toBe('Something odd');
    expect(attemptError('POST "http://x": net/http: HTTP/1.x transport connection broken: malformed HTTP response', 'network')).toBe(
      'HTTP/1.x transport connection broken: malformed HTTP response',
    );
  });
  it('says a timeout is no answer within the timeout', () => {
    expect(attemptError('Post "http://127.0.0.1:9/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)', 'timeout', 30_004)).toBe(
      'No answer within 30 s',
    );
    expect(attemptError('context deadline exceeded', 'timeout', 1_020)).toBe('No answer within 1 s');
    // A newer server's own words, the unit set apart.
    expect(attemptError('no answer within 30s', 'timeout', 29_990)).toBe('No answer within 30 s');
    expect(attemptError('no answer within 5 s', 'timeout')).toBe('No answer within 5 s');
    expect(attemptError('no connection to 10.0.0.1:443 within 10s', 'timeout', 10_000)).toBe('No connection to 10.0.0.1:443 within 10 s');
    expect(attemptError('answered 200 OK, but the rest of the answer did not arrive within 1.5s', 'timeout')).toBe(
      'Answered 200 OK, but the rest of the answer did not arrive within 1.5 s',
    );
    expect(attemptError('', 'timeout', 2_000)).toBe('No answer within 2 s');
    // Without a duration (a delivery's last error) and none in the text.
    expect(attemptError('net/http: request canceled (Client.Timeout exceeded while awaiting headers)', '')).toBe('No answer in time');
  });
  it('puts the usual network failures in words', () => {
    expect(attemptError('Post "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused', 'connection_refused')).toBe(
      'Connection refused: nothing listens at 127.0.0.1:1',
    );
    expect(attemptError('dial tcp [::1]:8080: connect: connection refused', 'connection_refused')).toBe('Connection refused: nothing listens at [::1]:8080');
    expect(attemptError('dial tcp: lookup hooks.invalid on 127.0.0.53:53: no such host', 'dns')).toBe('The host name hooks.invalid does not resolve');
    expect(attemptError('read tcp 10.0.0.1:5555->10.0.0.2:443: read: connection reset by peer', 'connection_reset')).toBe('The receiver reset the connection');
    expect(attemptError('Post "http://a/b": EOF', 'connection_closed')).toBe('The connection closed before a whole answer');
    expect(attemptError('unexpected EOF', 'connection_closed')).toBe('The connection closed before a whole answer');
    expect(attemptError('tls: failed to verify certificate: x509: certificate signed by unknown authority', 'tls')).toBe(
      'TLS failed: failed to verify certificate: certificate signed by unknown authority',
    );
  });
  it('keeps what is already in words, capitalised', () => {
    expect(attemptError('HTTP 503 Service Unavailable', 'http_5xx')).toBe('HTTP 503 Service Unavailable');
    expect(attemptError('connection refused by 127.0.0.1:1', 'connection_refused')).toBe('Connection refused by 127.0.0.1:1');
    expect(attemptError('DNS lookup of hooks.invalid failed: no such host', 'dns')).toBe('DNS lookup of hooks.invalid failed: no such host');
    expect(attemptError('answered 503 Service Unavailable', 'http_5xx')).toBe('Answered 503 Service Unavailable');
    expect(attemptError('template: missing key "customer"', 'transform')).toBe('Template: missing key "customer"');
  });
  it('falls back on the class, then on nothing', () => {
    expect(attemptError('', 'connection_reset')).toBe('Connection reset');
    expect(attemptError('  ', '')).toBe('');
  });
});

describe('error classes', () => {
  it('have short names and labels with what they mean', () => {
    expect(errorClassText('connection_refused')).toBe('connection refused');
    expect(errorClassText('http_5xx')).toBe('HTTP 5xx');
    expect(errorClassText('dns')).toBe('DNS');
    expect(errorClassText('something_new')).toBe('something new');
    expect(errorClassLabel('timeout')).toBe('Timeout (no answer in time)');
    expect(errorClassLabel('something_new')).toBe('Something new');
  });
});

describe('statusText', () => {
  it('names statuses and no answer', () => {
    expect(statusText('503')).toBe('503 Service Unavailable');
    expect(statusText('200')).toBe('200 OK');
    expect(statusText('299')).toBe('299');
    expect(statusText('none')).toBe('No answer');
  });
});

describe('attemptsText', () => {
  it('counts against the maximum, retries by hand apart', () => {
    expect(attemptsText(2, 2, 5)).toBe('2 of 5');
    expect(attemptsText(3, 2, 2)).toBe('2 of 2, and 1 by hand');
    // A server that counts attempts by hand with the others.
    expect(attemptsText(3, 3, 2)).toBe('3: 2 planned, 1 more by hand');
  });
});

describe('small words', () => {
  it('capitalises and names days', () => {
    expect(capitalize('no answer')).toBe('No answer');
    expect(capitalize('')).toBe('');
    expect(dayTime(new Date(2026, 10, 24, 9, 5))).toBe('Tue 09:05');
  });
});
