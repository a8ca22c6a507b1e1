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
});
