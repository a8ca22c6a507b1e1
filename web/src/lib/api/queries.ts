// Reads that take more than one call.
import { Code, ConnectError } from '@connectrpc/connect';
import type { EventType, GetWebhookHealthResponse, ListNamespacesResponse, Webhook } from '$gen/proto/webhook_pb';
import type { IdKind, Probe } from '$lib/ids';
import type { Api } from './client';

export interface WebhookRow {
  webhook: Webhook;
  /** undefined when the health could not be read. */
  health?: GetWebhookHealthResponse;
}

/**
 * webhookPage is a page of webhooks with each one's health. ListWebhooks
 * doesn't carry health, so it is read webhook by webhook, in parallel; a
 * page holds at most limit of them.
 */
export async function webhookPage(api: Api, namespace: string, limit: number, cursor: string) {
  const res = await api.webhooks.listWebhooks({ namespace, limit, cursor });
  const health = await Promise.allSettled(
    res.webhooks.map((w) => api.health.getWebhookHealth({ namespace, webhookId: w.id })),
  );
  const rows: WebhookRow[] = res.webhooks.map((webhook, i) => {
    const h = health[i];
    return { webhook, health: h.status === 'fulfilled' ? h.value : undefined };
  });
  return { rows, nextCursor: res.nextCursor };
}

/** allEventTypes reads the whole catalogue (pages of 100, up to max types), for pickers. */
export async function allEventTypes(api: Api, activeOnly: boolean, max = 1000): Promise<EventType[]> {
  const out: EventType[] = [];
  let cursor = '';
  do {
    const res = await api.events.listEventTypes({ activeOnly, limit: 100, cursor });
    out.push(...res.eventTypes);
    cursor = res.nextCursor;
  } while (cursor && out.length < max);
  return out;
}

/**
 * whoAmI checks the credential with a call any valid one may make,
 * ListNamespaces, which says what it may use and do; a server older than
 * that call answers Unimplemented, and then listing event types checks it
 * (the answer is undefined: the server decides what is allowed, call by call).
 */
export async function whoAmI(api: Api): Promise<ListNamespacesResponse | undefined> {
  try {
    return await api.namespaces.listNamespaces({});
  } catch (err) {
    if (!(err instanceof ConnectError && err.code === Code.Unimplemented)) throw err;
    await api.events.listEventTypes({ limit: 1 });
    return undefined;
  }
}

/** idProbe asks a namespace whether it holds the id: not found and not allowed are both "absent". */
export function idProbe(api: Api, kind: IdKind, id: string): (namespace: string) => Promise<Probe> {
  return async (namespace) => {
    try {
      switch (kind) {
        case 'event':
          await api.events.getEvent({ namespace, eventId: id });
          break;
        case 'delivery':
          await api.deliveries.getDelivery({ namespace, deliveryId: id });
          break;
        case 'webhook':
          await api.webhooks.getWebhook({ namespace, webhookId: id });
          break;
        case 'subscription':
          await api.subscriptions.getSubscription({ namespace, subscriptionId: id });
          break;
      }
      return 'found';
    } catch (err) {
      if (err instanceof ConnectError && (err.code === Code.NotFound || err.code === Code.PermissionDenied)) return 'absent';
      throw err;
    }
  };
}
