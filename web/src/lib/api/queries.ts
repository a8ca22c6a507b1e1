// Reads that take more than one call.
import type { EventType, GetWebhookHealthResponse, Webhook } from '$gen/proto/webhook_pb';
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
