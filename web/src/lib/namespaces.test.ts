import { describe, expect, it } from 'vitest';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { contents, landing, mayUse, typed } from './namespaces';

const all = { allNamespaces: true, namespaces: [] };
const teamA = { allNamespaces: false, namespaces: ['team-a'] };

describe('landing', () => {
  it('opens the namespace used last that the caller may use', () => {
    expect(landing(['b', 'a'], all, ['a', 'c'])).toBe('b');
    expect(landing(['b', 'team-a'], teamA, ['team-a'])).toBe('team-a');
  });
  it('else the first listed', () => {
    expect(landing([], all, ['acme', 'zeta'])).toBe('acme');
    expect(landing(['elsewhere'], teamA, ['team-a'])).toBe('team-a');
  });
  it('else the first the key may use, though nothing is in it yet', () => {
    expect(landing(['elsewhere'], teamA, [])).toBe('team-a');
  });
  it('else the default one', () => {
    expect(landing([], all, [])).toBe('default');
    expect(landing([], undefined, [])).toBe('default');
    expect(landing(['x'], undefined, [])).toBe('x');
  });
});

describe('mayUse', () => {
  it('follows the access, or lets the server decide without one', () => {
    expect(mayUse(all, 'x')).toBe(true);
    expect(mayUse(teamA, 'team-a')).toBe(true);
    expect(mayUse(teamA, 'x')).toBe(false);
    expect(mayUse(undefined, 'x')).toBe(true);
  });
});

describe('contents', () => {
  it('sums a namespace up', () => {
    const now = new Date('2026-12-07T12:00:00Z');
    const lastEventAt = timestampFromDate(new Date('2026-12-07T11:55:00Z'));
    expect(contents({ webhooks: 3, pausedWebhooks: 1, subscriptions: 5, lastEventAt }, now)).toBe(
      '3 webhooks (1 paused) · 5 subscriptions · last event 5m ago',
    );
    expect(contents({ webhooks: 1, pausedWebhooks: 0, subscriptions: 1 }, now)).toBe('1 webhook · 1 subscription · no events yet');
  });
});

describe('typed', () => {
  it('tells what the namespace box would open', () => {
    expect(typed(' ', ['a'], all).kind).toBe('empty');
    expect(typed('a', ['a'], all).kind).toBe('listed');
    expect(typed('fresh', ['a'], all)).toMatchObject({ kind: 'new', message: expect.stringMatching(/holds nothing yet: a new namespace/) });
    expect(typed('evt_01jd', ['a'], all).kind).toBe('id');
    expect(typed('-bad', ['a'], all).kind).toBe('invalid');
    expect(typed('x', ['team-a'], teamA)).toMatchObject({ kind: 'forbidden' });
  });
});
