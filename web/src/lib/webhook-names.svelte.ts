// Webhook URLs by id, for lists that only carry ids (deliveries, the worst
// webhooks). Fetched once a webhook and kept for the session; a
// namespace's first page of webhooks is fetched in one call.
import { Code, ConnectError } from '@connectrpc/connect';
import type { Api } from './api/client';

export class WebhookNames {
  private urls = $state<Record<string, string>>({});
  private asked = new Set<string>();
  private listed = new Set<string>();

  constructor(private api: Api) {}

  /** url is the webhook's URL, or '' until known (and fetches it). */
  url(ns: string, id: string): string {
    const key = `${ns}/${id}`;
    const known = this.urls[key];
    if (known !== undefined) return known;
    this.fetch(ns, id);
    return '';
  }

  /** remember records urls already at hand. */
  remember(ns: string, webhooks: { id: string; url: string }[]): void {
    for (const w of webhooks) this.urls[`${ns}/${w.id}`] = w.url;
  }

  private async fetch(ns: string, id: string) {
    const key = `${ns}/${id}`;
    if (this.asked.has(key)) return;
    this.asked.add(key);
    if (!this.listed.has(ns)) {
      this.listed.add(ns);
      try {
        const res = await this.api.webhooks.listWebhooks({ namespace: ns, limit: 100 });
        this.remember(ns, res.webhooks);
        if (this.urls[key] !== undefined) return;
      } catch {
        // fall through to the single read
      }
    }
    try {
      const res = await this.api.webhooks.getWebhook({ namespace: ns, webhookId: id });
      this.urls[key] = res.webhook?.url ?? '';
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.NotFound) this.urls[key] = '(deleted)';
      else this.asked.delete(key);
    }
  }
}
