import { describe, expect, it } from 'vitest';
import { findNamespace, idLink, looksLikeId, notFound, parseId, type Probe } from './ids';

const u = '01jd3k8q5v6w7x8y9zabcdefgh';

describe('parseId', () => {
  it('knows each prefix', () => {
    expect(parseId(`evt_${u}`)).toEqual({ ok: true, kind: 'event', id: `evt_${u}` });
    expect(parseId(`dlv_${u}`)).toMatchObject({ kind: 'delivery' });
    expect(parseId(`wh_${u}`)).toMatchObject({ kind: 'webhook' });
    expect(parseId(`sub_${u}`)).toMatchObject({ kind: 'subscription' });
  });
  it('drops whitespace and quotes around it, and case', () => {
    expect(parseId(`  \tEVT_${u.toUpperCase()}\n`)).toEqual({ ok: true, kind: 'event', id: `evt_${u}` });
    expect(parseId(`"dlv_${u}",`.replace(',', ''))).toMatchObject({ ok: true, id: `dlv_${u}` });
  });
  it('says which prefixes work', () => {
    const bad = parseId(`rcv_${u}`);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/ids start with evt_, dlv_, wh_, sub_/);
    expect(!parseId('acme').ok && (parseId('acme') as { message: string }).message).toMatch(/evt_, dlv_, wh_, sub_/);
    expect(parseId('   ')).toMatchObject({ ok: false, message: expect.stringMatching(/^Enter an id/) });
  });
  it('refuses a truncated id', () => {
    expect(parseId(`evt_${u.slice(0, 20)}`)).toMatchObject({ ok: false, message: expect.stringMatching(/not a whole event id/) });
    expect(parseId(`wh_${u.slice(0, 25)}i`).ok).toBe(false);
  });
  it('tells ids from namespace names', () => {
    expect(looksLikeId(` sub_${u}`)).toBe(true);
    expect(looksLikeId('evt_')).toBe(true);
    expect(looksLikeId('events')).toBe(false);
    expect(looksLikeId('team-a')).toBe(false);
  });
});

describe('idLink', () => {
  it('links each kind to its page', () => {
    expect(idLink('acme', 'event', 'evt_1')).toBe('#/acme/events/evt_1');
    expect(idLink('acme', 'delivery', 'dlv_1')).toBe('#/acme/deliveries/dlv_1');
    expect(idLink('a b', 'webhook', 'wh_1')).toBe('#/a%20b/webhooks/wh_1');
    expect(idLink('acme', 'subscription', 'sub_1')).toBe('#/acme/subscriptions/sub_1');
  });
});

describe('findNamespace', () => {
  const holder = (where: string, asked: string[]) => async (ns: string): Promise<Probe> => {
    asked.push(ns);
    return ns === where ? 'found' : 'absent';
  };
  it('asks the current namespace first, and stops there when it holds the id', async () => {
    const asked: string[] = [];
    expect(await findNamespace('a', ['b', 'c'], holder('a', asked))).toBe('a');
    expect(asked).toEqual(['a']);
  });
  it('then the others, each once', async () => {
    const asked: string[] = [];
    expect(await findNamespace('a', ['a', 'b', 'c', 'b', 'd'], holder('d', asked), 2)).toBe('d');
    expect(asked).toEqual(['a', 'b', 'c', 'd']);
  });
  it('gives undefined when none holds it', async () => {
    expect(await findNamespace('a', ['b'], holder('z', []))).toBeUndefined();
  });
  it('passes on other errors', async () => {
    await expect(findNamespace('a', [], async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  });
  it('says where it looked', () => {
    expect(notFound('event', 'evt_1', 'acme', 0)).toBe('No event evt_1 in acme.');
    expect(notFound('delivery', 'dlv_1', 'acme', 1)).toBe('No delivery dlv_1 in acme or the other namespace you may see.');
    expect(notFound('webhook', 'wh_1', 'acme', 3)).toBe('No webhook wh_1 in acme or the 3 other namespaces you may see.');
  });
});
