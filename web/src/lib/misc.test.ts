import { describe, expect, it } from 'vitest';
import { resolveAPIBase } from './config';
import { fromRows, isSensitive, masked, sameMap, sortedEntries, toRows } from './headers';
import { parseObject, pretty } from './json';
import { parseRecent, remember, validNamespace } from './namespaces';
import { hashQuery, inSection, to } from './nav';

describe('resolveAPIBase', () => {
  it('resolves paths against the page and ends with a slash', () => {
    expect(resolveAPIBase('/', 'http://h:8080/ui/#/default')).toBe('http://h:8080/');
    expect(resolveAPIBase('', 'http://h:8080/ui/')).toBe('http://h:8080/');
    expect(resolveAPIBase('/api', 'http://h/admin/webhooks/')).toBe('http://h/api/');
    expect(resolveAPIBase('../api/', 'http://h/admin/ui/')).toBe('http://h/admin/api/');
    expect(resolveAPIBase('https://api.example.com/v1?x=1#y', 'http://h/ui/')).toBe('https://api.example.com/v1/');
  });
});

describe('headers', () => {
  it('sort by name, case-insensitively', () => {
    expect(sortedEntries({ b: '1', A: '2', c: '3' }).map(([k]) => k)).toEqual(['A', 'b', 'c']);
  });
  it('mask credentials but not the rest', () => {
    expect(isSensitive('Authorization')).toBe(true);
    expect(isSensitive('X-Api-Key')).toBe(true);
    expect(isSensitive('X-Upstream-Token')).toBe(true);
    expect(isSensitive('Content-Type')).toBe(false);
    expect(isSensitive('Webhook-Signature')).toBe(false);
    expect(masked('Authorization', 'Bearer abc')).toBe('********');
    expect(masked('Content-Type', 'application/json')).toBe('application/json');
  });
  it('edit as rows', () => {
    expect(toRows({})).toEqual([{ key: '', value: '' }]);
    expect(fromRows([{ key: ' X-A ', value: '1' }, { key: '', value: 'ignored' }, { key: 'X-B', value: '' }])).toEqual({ 'X-A': '1', 'X-B': '' });
    expect(sameMap({ a: '1' }, { a: '1' })).toBe(true);
    expect(sameMap({ a: '1' }, { a: '2' })).toBe(false);
    expect(sameMap({ a: '1' }, { a: '1', b: '' })).toBe(false);
  });
});

describe('json', () => {
  it('pretty-prints JSON and leaves the rest alone', () => {
    expect(pretty('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(pretty('<html>not json')).toBe('<html>not json');
    expect(pretty('')).toBe('');
  });
  it('accepts only objects as payloads', () => {
    expect(parseObject('{"a": [1, 2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(parseObject('[1]').ok).toBe(false);
    expect(parseObject('null').ok).toBe(false);
    const bad = parseObject('{oops');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^Not valid JSON/);
  });
});

describe('namespaces', () => {
  it('validates as the API does', () => {
    expect(validNamespace('default')).toBe(true);
    expect(validNamespace('team-a.prod_1')).toBe(true);
    expect(validNamespace('-x')).toBe(false);
    expect(validNamespace('')).toBe(false);
    expect(validNamespace('a'.repeat(65))).toBe(false);
    expect(validNamespace('a/b')).toBe(false);
  });
  it('remembers the latest first, without duplicates, up to a limit', () => {
    expect(remember(['a', 'b', 'c'], 'b')).toEqual(['b', 'a', 'c']);
    expect(remember(['a', 'b'], 'c', 2)).toEqual(['c', 'a']);
    expect(remember(['a'], 'not valid!')).toEqual(['a']);
  });
  it('reads back only what is valid', () => {
    expect(parseRecent('["a", 1, "b c", "d"]')).toEqual(['a', 'd']);
    expect(parseRecent('{')).toEqual([]);
    expect(parseRecent(null)).toEqual([]);
  });
});

describe('nav', () => {
  it('builds hash links', () => {
    expect(to.webhook('acme', 'wh_1')).toBe('#/acme/webhooks/wh_1');
    expect(to.deliveries('acme', '?status=failed')).toBe('#/acme/deliveries?status=failed');
    expect(to.newEvent('acme', 'order.created')).toBe('#/acme/events/new?type=order.created');
  });
  it('reads the query of the hash route', () => {
    expect(hashQuery(new URL('http://h/ui/#/acme/deliveries?status=failed&webhook=wh_1')).get('webhook')).toBe('wh_1');
    expect(hashQuery(new URL('http://h/ui/#/acme/deliveries')).toString()).toBe('');
  });
  it('tells the section of a route', () => {
    expect(inSection('#/acme/webhooks/wh_1/edit', 'acme', 'webhooks')).toBe(true);
    expect(inSection('#/acme/webhooks', 'acme', 'webhooks')).toBe(true);
    expect(inSection('#/acme/webhooks-old', 'acme', 'webhooks')).toBe(false);
    expect(inSection('#/acme/deliveries?status=failed', 'acme', 'deliveries')).toBe(true);
    expect(inSection('#/acme', 'acme', '')).toBe(true);
    expect(inSection('#/acme/events', 'acme', '')).toBe(false);
  });
});
