import { describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { BadRequestSchema } from '$gen/google/rpc/error_details_pb';
import { createApi } from './client';
import { describe as explain } from './errors';

/** A fetch that records requests and answers with the given Connect response. */
function fakeFetch(status: number, body: unknown) {
  const seen: { url: string; headers: Headers; body: unknown }[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const raw = init?.body;
    const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array);
    seen.push({ url: String(input), headers: new Headers(init?.headers), body: JSON.parse(text) });
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
  return { fetchImpl, seen };
}

describe('createApi', () => {
  it('posts JSON to the service path under the base, with the key', async () => {
    const { fetchImpl, seen } = fakeFetch(200, { webhooks: [{ id: 'wh_1', url: 'https://x' }], nextCursor: 'c2' });
    const api = createApi('http://h/api/', { key: () => 'key-0123456789abcdef', rejected: () => {} }, fetchImpl);
    const res = await api.webhooks.listWebhooks({ namespace: 'acme', limit: 25 });
    expect(res.webhooks[0].url).toBe('https://x');
    expect(res.nextCursor).toBe('c2');
    expect(seen[0].url).toBe('http://h/api/webhook.WebhookService/ListWebhooks');
    expect(seen[0].headers.get('x-api-key')).toBe('key-0123456789abcdef');
    expect(seen[0].body).toEqual({ namespace: 'acme', limit: 25 });
  });

  it('sends no key when there is none', async () => {
    const { fetchImpl, seen } = fakeFetch(200, {});
    const api = createApi('http://h/', { key: () => '', rejected: () => {} }, fetchImpl);
    await api.health.getHealthSummary({});
    expect(seen[0].headers.has('x-api-key')).toBe(false);
  });

  it('sends a portal token as a bearer token, and no key', async () => {
    const { fetchImpl, seen } = fakeFetch(200, { namespaces: [{ namespace: 'acme', webhooks: 2 }], access: { portal: true } });
    const api = createApi('http://h/', { key: () => 'key-0123456789abcdef', token: () => 'spt_abc', rejected: () => {} }, fetchImpl);
    const res = await api.namespaces.listNamespaces({});
    expect(res.namespaces[0].webhooks).toBe(2);
    expect(res.access?.portal).toBe(true);
    expect(seen[0].url).toBe('http://h/webhook.NamespaceService/ListNamespaces');
    expect(seen[0].headers.get('authorization')).toBe('Bearer spt_abc');
    expect(seen[0].headers.has('x-api-key')).toBe(false);
  });

  it('reports a refused key', async () => {
    const { fetchImpl } = fakeFetch(401, { code: 'unauthenticated', message: 'invalid API key' });
    const refused: string[] = [];
    const api = createApi('http://h/', { key: () => 'wrong', rejected: (m) => refused.push(m) }, fetchImpl);
    await expect(api.events.listEventTypes({})).rejects.toThrow(ConnectError);
    expect(refused).toEqual(['invalid API key']);
  });

  it('does not report other errors as a refused key', async () => {
    const { fetchImpl } = fakeFetch(403, { code: 'permission_denied', message: 'this API key may not use namespace "x"' });
    const refused: string[] = [];
    const api = createApi('http://h/', { key: () => 'k', rejected: (m) => refused.push(m) }, fetchImpl);
    await expect(api.webhooks.listWebhooks({ namespace: 'x' })).rejects.toThrow();
    expect(refused).toEqual([]);
  });
});

describe('errors', () => {
  it('names the field of an invalid argument', async () => {
    const detail = create(BadRequestSchema, { fieldViolations: [{ field: 'timeout_seconds', description: 'must be 1 to 60' }] });
    const { fetchImpl } = fakeFetch(400, {
      code: 'invalid_argument',
      message: 'invalid argument: timeout_seconds: must be 1 to 60',
      details: [{ type: 'google.rpc.BadRequest', value: Buffer.from(toBinary(BadRequestSchema, detail)).toString('base64').replace(/=+$/, '') }],
    });
    const api = createApi('http://h/', { key: () => '', rejected: () => {} }, fetchImpl);
    const err = await api.webhooks.registerWebhook({ url: 'https://x', timeoutSeconds: 99 }).catch((e) => e);
    expect(explain(err)).toEqual({ kind: 'invalid', field: 'timeout_seconds', message: 'timeout seconds: must be 1 to 60' });
  });

  it('explains each kind', () => {
    expect(explain(new ConnectError('invalid API key', Code.Unauthenticated))).toMatchObject({ kind: 'unauthenticated' });
    expect(explain(new ConnectError('this API key may not use namespace "x"', Code.PermissionDenied))).toEqual({
      kind: 'permission',
      message: 'This API key may not use namespace "x"',
    });
    expect(explain(new ConnectError('', Code.NotFound))).toEqual({ kind: 'not_found', message: 'Not found.' });
    expect(explain(new ConnectError('invalid argument: url: required', Code.InvalidArgument)).message).toBe('Url: required');
    expect(explain(new Error('boom'))).toEqual({ kind: 'other', message: 'boom' });
  });
});
