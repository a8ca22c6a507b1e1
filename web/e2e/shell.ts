// What namespaces.spec.ts and portal.spec.ts share: a namespace with one of
// everything in it, portal tokens (issued by the server, or signed here),
// and calls made with a portal token.
import { createHmac } from 'node:crypto';
import { expect } from '@playwright/test';
import { call, env, unique } from './fixtures';
import { portalSecret } from './keys';

export interface Seeded {
  type: string;
  url: string;
  webhookId: string;
  subscriptionId: string;
  eventId: string;
  deliveryId: string;
}

/** seed fills ns with a webhook, its subscription, an event and its delivery, of a new event type or the one given. */
export async function seed(ns: string, existingType?: string): Promise<Seeded> {
  const type = existingType ?? unique('shell.seeded');
  if (!existingType) await call('webhook.EventService/RegisterEvent', { name: type });
  const url = `${env.receiver}/ok/${ns}`;
  const { webhookId } = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', { namespace: ns, url, events: [type] });
  const subs = await call<{ subscriptions: { id: string }[] }>('webhook.SubscriptionService/ListSubscriptions', { namespace: ns, webhookId });
  const { eventId } = await call<{ eventId: string }>('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { n: 1 } });
  let deliveryId = '';
  await expect(async () => {
    const res = await call<{ deliveries?: { id: string }[] }>('webhook.DeliveryService/ListDeliveries', { namespace: ns, eventId });
    deliveryId = res.deliveries?.[0]?.id ?? '';
    expect(deliveryId).not.toBe('');
  }).toPass();
  return { type, url, webhookId, subscriptionId: subs.subscriptions[0].id, eventId, deliveryId };
}

/** portalToken has the server issue a token for ns (CreatePortalToken, with the admin key). */
export async function portalToken(ns: string, capabilities = ['read'], ttlSeconds = 3600): Promise<string> {
  const res = await call<{ token: string }>('webhook.NamespaceService/CreatePortalToken', { namespace: ns, capabilities, ttlSeconds });
  expect(res.token).toMatch(/^spt_/);
  return res.token;
}

/**
 * signToken makes a token as the server does (transport/portal.go): "spt_",
 * the base64url JSON of its claims, ".", and the base64url HMAC-SHA256 of
 * what comes before the dot, under the portal secret. Expiry is in Unix
 * seconds: the tests make tokens that have expired, or soon will.
 */
export function signToken(ns: string, exp: number, caps = ['read']): string {
  const signed = 'spt_' + Buffer.from(JSON.stringify({ ns, caps, exp, iat: Math.floor(Date.now() / 1000) - 60 })).toString('base64url');
  return `${signed}.${createHmac('sha256', portalSecret).update(signed).digest('base64url')}`;
}

/** asPortal makes an API call with a portal token, and returns the HTTP status and the Connect error code. */
export async function asPortal(token: string, method: string, body: unknown): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${env.api}${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { code?: string };
  return { status: res.status, code: json.code };
}

/** The window of a small phone, the narrowest the header is made for. */
export const smallPhone = { width: 375, height: 800 };
