import { describe, expect, it } from 'vitest';
import { CursorPager } from './pager.svelte';
import { Session } from './session.svelte';

describe('CursorPager', () => {
  it('walks forward and back through cursors', () => {
    const p = new CursorPager();
    expect([p.page, p.cursor, p.hasPrevious]).toEqual([1, '', false]);
    p.next('c2');
    p.next('c3');
    expect([p.page, p.cursor, p.hasPrevious]).toEqual([3, 'c3', true]);
    p.previous();
    expect([p.page, p.cursor]).toEqual([2, 'c2']);
    p.previous();
    p.previous();
    expect([p.page, p.cursor]).toEqual([1, '']);
  });
  it('stays put on the last page and starts over on reset', () => {
    const p = new CursorPager();
    p.next('');
    expect(p.page).toBe(1);
    p.next('c2');
    p.reset();
    expect([p.page, p.cursor]).toEqual([1, '']);
  });
});

function memoryStorage(init: Record<string, string> = {}) {
  const m = new Map(Object.entries(init));
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    map: m,
  };
}

describe('Session', () => {
  it('keeps an accepted key in session storage only', () => {
    const ss = memoryStorage();
    const ls = memoryStorage();
    const s = new Session(ss, ls);
    expect(s.auth).toBe('checking');
    s.accepted('k'.repeat(16));
    expect([s.auth, s.apiKey, ss.map.get('sparrow.apiKey')]).toEqual(['signed-in', 'k'.repeat(16), 'k'.repeat(16)]);
    expect([...ls.map.keys()]).toEqual([]);
  });
  it('is open when the server needs no key', () => {
    const s = new Session(memoryStorage(), memoryStorage());
    s.accepted('');
    expect(s.auth).toBe('open');
  });
  it('asks again, saying why, when the key is refused', () => {
    const ss = memoryStorage({ 'sparrow.apiKey': 'old-key-0123456789' });
    const s = new Session(ss, memoryStorage());
    expect(s.apiKey).toBe('old-key-0123456789');
    s.accepted(s.apiKey);
    s.rejected('invalid API key');
    expect([s.auth, s.apiKey, ss.map.has('sparrow.apiKey')]).toEqual(['needs-key', '', false]);
    expect(s.notice).toMatch(/no longer accepted/);
  });
  it('asks without a notice the first time', () => {
    const s = new Session(memoryStorage(), memoryStorage());
    s.rejected('missing API key');
    expect([s.auth, s.notice]).toEqual(['needs-key', '']);
  });
  it('signs out', () => {
    const ss = memoryStorage();
    const s = new Session(ss, memoryStorage());
    s.accepted('k'.repeat(16));
    s.signOut();
    expect([s.auth, s.apiKey, ss.map.size]).toEqual(['needs-key', '', 0]);
  });
  it('remembers namespaces in local storage', () => {
    const ls = memoryStorage({ 'sparrow.namespaces': '["b"]' });
    const s = new Session(memoryStorage(), ls);
    s.use('a');
    expect(s.recent).toEqual(['a', 'b']);
    expect(ls.map.get('sparrow.namespaces')).toBe('["a","b"]');
  });
  it('takes a portal token instead of a key, and sends nobody to the key form when it is refused', () => {
    const ss = memoryStorage({ 'sparrow.apiKey': 'old-key-0123456789' });
    const ls = memoryStorage();
    const s = new Session(ss, ls);
    s.usePortal('spt_abc');
    expect([s.portal, s.apiKey, ss.map.get('sparrow.portalToken'), ss.map.has('sparrow.apiKey')]).toEqual([true, '', 'spt_abc', false]);
    s.listed({ namespaces: [], access: { allNamespaces: false, namespaces: ['acme'], capabilities: ['read'], portal: true } });
    s.accepted('');
    expect(s.auth).toBe('portal');
    expect(s.landing).toBe('acme');
    s.use('acme');
    expect(ls.map.size).toBe(0);
    s.rejected('portal token expired');
    expect([s.auth, s.notice, ss.map.get('sparrow.portalToken')]).toEqual(['link-expired', 'portal token expired', 'spt_abc']);
    // A reload keeps the token, to explain again.
    expect(new Session(ss, ls).portal).toBe(true);
  });
  it('says what the credential may do', () => {
    const s = new Session(memoryStorage(), memoryStorage());
    expect(s.can('manage_webhooks')).toBe(true);
    s.listed({ namespaces: [], access: { allNamespaces: false, namespaces: ['team-a'], capabilities: ['read', 'push_events'], portal: false } });
    expect([s.can('read'), s.can('push_events'), s.can('manage_webhooks'), s.can('manage_event_types')]).toEqual([true, true, false, false]);
    expect([s.mayUse('team-a'), s.mayUse('other')]).toEqual([true, false]);
    s.signOut();
    expect(s.can('manage_webhooks')).toBe(true);
  });
  it('lands on the namespace used last, else the first listed', () => {
    const s = new Session(memoryStorage(), memoryStorage({ 'sparrow.namespaces': '["gone"]' }));
    const n = (namespace: string) => ({ namespace, webhooks: 0, pausedWebhooks: 0, subscriptions: 0 });
    s.listed({ namespaces: [n('acme'), n('zeta')], access: { allNamespaces: false, namespaces: ['acme', 'zeta'], capabilities: ['read'], portal: false } });
    expect(s.landing).toBe('acme');
    s.use('zeta');
    expect(s.landing).toBe('zeta');
  });
});
