// The pages' finer points, each at a laptop's width and at a phone's:
// ids shown and copied whole, the deliveries' filters, confirmations of
// what sends or stops traffic, the notice of a retry by hand, Sparrow's own
// events hidden, health over an hour, a day or a week, attempt errors in
// people's words, and the grace period of a rotated secret.
import type { Locator, Page, Request } from '@playwright/test';
import { call, env, expect, expectFits, shot, signIn, test, unique } from './fixtures';

interface Attempt {
  number: number;
  requestHeaders?: Record<string, string>;
}
interface Delivery {
  id: string;
  status: string;
  webhookId: string;
  eventId: string;
  attempts?: Attempt[];
}

const finished = ['succeeded', 'failed', 'expired', 'cancelled'];

/** deliveriesOf lists a namespace's deliveries through the API, newest first. */
async function deliveriesOf(ns: string, filter: Record<string, unknown> = {}): Promise<Delivery[]> {
  const res = await call<{ deliveries?: Delivery[] }>('webhook.DeliveryService/ListDeliveries', { namespace: ns, limit: 100, ...filter });
  return res.deliveries ?? [];
}

/** settled waits for n deliveries of a webhook, all finished, and returns them. */
async function settled(ns: string, webhookId: string, n: number): Promise<Delivery[]> {
  let got: Delivery[] = [];
  await expect
    .poll(
      async () => {
        got = await deliveriesOf(ns, { webhookId });
        return got.filter((d) => finished.includes(d.status)).length;
      },
      { timeout: 30_000 },
    )
    .toBe(n);
  return got;
}

/** hook registers a webhook to a receiver path (or a whole URL). */
async function hook(ns: string, path: string, events: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const url = /^https?:/.test(path) ? path : `${env.receiver}/${path}`;
  const res = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', { namespace: ns, url, events, ...extra });
  return res.webhookId;
}

async function push(ns: string, event: string, payload: object = {}): Promise<string> {
  return (await call<{ eventId: string }>('webhook.EventService/PushEvent', { namespace: ns, event, payload })).eventId;
}

async function newType(prefix: string): Promise<string> {
  const name = unique(prefix);
  await call('webhook.EventService/RegisterEvent', { name });
  return name;
}

/** apiCalls records the API methods the page calls, with their requests. */
function apiCalls(page: Page): { method: string; body: Record<string, unknown> }[] {
  const seen: { method: string; body: Record<string, unknown> }[] = [];
  page.on('request', (req: Request) => {
    const m = /\/webhook\.\w+\/(\w+)$/.exec(req.url());
    if (m && req.method() === 'POST') seen.push({ method: m[1], body: (req.postDataJSON() ?? {}) as Record<string, unknown> });
  });
  return seen;
}

/**
 * expectWhole fails when any of an id's characters is hidden: cut off by an
 * ellipsis or by a box that hides what overflows it.
 */
async function expectWhole(id: Locator): Promise<void> {
  const clipped = await id.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    for (let a: HTMLElement | null = el as HTMLElement; a && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (!/hidden|clip/.test(cs.overflowX) && cs.textOverflow !== 'ellipsis') continue;
      const box = a.getBoundingClientRect();
      if (text.left < box.left - 1 || text.right > box.right + 1) return `${a.tagName.toLowerCase()}.${a.className} cuts it`;
    }
    return '';
  });
  expect(clipped, `${await id.textContent()} is shown whole`).toBe('');
}

async function clipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** openFilters unfolds the deliveries' filters (folded on a phone). */
async function openFilters(page: Page): Promise<void> {
  const box = page.locator('details.filter-box');
  if ((await box.getAttribute('open')) === null) await page.locator('summary', { hasText: 'Filters' }).click();
  await expect(page.getByRole('form', { name: 'Filter deliveries' })).toBeVisible();
}

/** signatures are the signatures a delivery's first attempt carried. */
async function signatures(ns: string, deliveryId: string): Promise<string[]> {
  const got = await call<{ delivery: Delivery }>('webhook.DeliveryService/GetDelivery', { namespace: ns, deliveryId });
  const headers = got.delivery.attempts?.[0]?.requestHeaders ?? {};
  const value = Object.entries(headers).find(([k]) => k.toLowerCase() === 'webhook-signature')?.[1] ?? '';
  return value.split(' ').filter(Boolean);
}

const widths = [
  ['desktop', { width: 1280, height: 900 }],
  ['phone', { width: 375, height: 800 }],
] as const;

for (const [width, viewport] of widths) {
  test.describe(`at ${width} width`, () => {
    test.use({ viewport });

    /** look saves a screenshot (of what the window shows, for a dialog) and, on a phone, checks nothing is wider than the screen. */
    async function look(page: Page, name: string, fullPage = true) {
      await shot(page, `pages-${name}-${width}`, fullPage);
      if (width === 'phone') await expectFits(page, `the ${name} page`);
    }

    test('ids are shown whole, in tables and headers, and copied whole', async ({ page, ns }) => {
      const type = await newType('ids.made');
      const webhookId = await hook(ns, `ok/${ns}`, [type]);
      // Pushed in one call: made within a millisecond or so, their ids alike but for the tail.
      await call('webhook.EventService/PushEvents', { events: [1, 2, 3].map((n) => ({ namespace: ns, event: type, payload: { n } })) });
      const ds = await settled(ns, webhookId, 3);
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await signIn(page, ns);

      await page.goto(`${env.ui}#/${ns}/deliveries`);
      const list = page.getByRole('table', { name: 'Deliveries' });
      for (const d of ds) {
        const shown = list.locator(`tr[data-delivery="${d.id}"] [data-id="${d.id}"]`);
        await expect(shown).toHaveText(d.id);
        await expectWhole(shown.locator('.text'));
      }
      const second = list.locator(`tr[data-delivery="${ds[1].id}"]`).getByRole('button', { name: `Copy ${ds[1].id}` });
      await second.click();
      await expect(second).toHaveAttribute('title', 'Copied');
      expect(await clipboard(page)).toBe(ds[1].id);
      await look(page, 'deliveries-ids');

      // The events list, the same way.
      await page.goto(`${env.ui}#/${ns}/events`);
      const events = page.getByRole('table', { name: 'Events' });
      for (const d of ds) await expectWhole(events.locator(`tr[data-event="${d.eventId}"] [data-id="${d.eventId}"] .text`));
      await events.locator(`tr[data-event="${ds[2].eventId}"]`).getByRole('button', { name: `Copy ${ds[2].eventId}` }).click();
      expect(await clipboard(page)).toBe(ds[2].eventId);

      // The headers of a delivery, an event and a webhook.
      const header = page.locator('.page-header');
      for (const [url, id] of [
        [`#/${ns}/deliveries/${ds[0].id}`, ds[0].id],
        [`#/${ns}/events/${ds[0].eventId}`, ds[0].eventId],
        [`#/${ns}/webhooks/${webhookId}`, webhookId],
      ]) {
        await page.goto(`${env.ui}${url}`);
        await expect(header.locator(`[data-id="${id}"]`)).toHaveText(id);
        await expectWhole(header.locator(`[data-id="${id}"] .text`));
        await header.getByRole('button', { name: `Copy ${id}` }).click();
        expect(await clipboard(page)).toBe(id);
      }
      await look(page, 'webhook-id');
    });

    test('deliveries filter by webhook, event type, HTTP status and error class, through the URL', async ({ page, ns }) => {
      const first = await newType('filter.first');
      const second = await newType('filter.second');
      const archive = await hook(ns, `ok/${ns}-archive`, [first, second], { description: 'Archive' });
      const billing = await hook(ns, `code/404/${ns}-billing`, [first], { description: 'Billing (gone)', maxAttempts: 1 });
      const crm = await hook(ns, `slow/${ns}-crm`, [first], { description: 'CRM (slow)', maxAttempts: 1, timeoutSeconds: 1 });
      await push(ns, first, { n: 1 });
      await push(ns, second, { n: 2 });
      await settled(ns, archive, 2);
      await settled(ns, billing, 1);
      await settled(ns, crm, 1);

      await signIn(page, ns);
      await page.goto(`${env.ui}#/${ns}/deliveries`);
      const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
      await expect(rows).toHaveCount(4);
      await openFilters(page);
      const filter = page.getByRole('button', { name: 'Filter', exact: true });
      const clear = async () => {
        await page.getByRole('button', { name: 'Clear', exact: true }).click();
        await expect(rows).toHaveCount(4);
        await openFilters(page);
      };

      // The webhook, picked by its description; the box then shows its URL.
      const picker = page.getByRole('combobox', { name: 'Webhook' });
      await picker.fill('gone');
      const options = page.getByRole('listbox', { name: 'Webhooks' }).getByRole('option');
      await expect(options).toHaveCount(2);
      await look(page, 'deliveries-webhook-picker');
      await options.filter({ hasText: 'Billing (gone)' }).click();
      await expect(picker).toHaveValue(`${env.receiver}/code/404/${ns}-billing`);
      await filter.click();
      await expect(page).toHaveURL(new RegExp(`webhook=${billing}`));
      await expect(rows).toHaveCount(1);
      await expect(rows.first()).toContainText('HTTP 404');
      await clear();

      // By keyboard: type, the first match is active, Enter picks it.
      await picker.fill('crm');
      await picker.press('Enter');
      await expect(picker).toHaveValue(`${env.receiver}/slow/${ns}-crm`);
      await filter.click();
      await expect(page).toHaveURL(new RegExp(`webhook=${crm}`));
      await expect(rows).toHaveCount(1);
      await clear();

      // The event type.
      await page.getByLabel('Event type').selectOption(second);
      await filter.click();
      await expect(page).toHaveURL(new RegExp(`type=${second.replace(/\./g, '\\.')}`));
      await expect(rows).toHaveCount(1);
      await expect(rows.first()).toContainText(second);
      await clear();

      // The HTTP status; one that is not one is refused here.
      const status = page.getByLabel('HTTP status');
      await status.fill('4o4');
      await filter.click();
      await expect(page.getByRole('alert')).toHaveText('An HTTP status is three digits, 100 to 599.');
      await expect(status).toHaveAttribute('aria-invalid', 'true');
      await expect(page).not.toHaveURL(/http_status/);
      await status.fill('404');
      await filter.click();
      await expect(page).toHaveURL(/http_status=404/);
      await expect(rows).toHaveCount(1);
      await expect(rows.first().locator(`[data-id]`).first()).toHaveAttribute('data-id', /^dlv_/);
      await expect(rows.first()).toContainText('HTTP 404');
      await clear();

      // The error class: the slow receiver's timeout, its error in words.
      await page.getByLabel('Error', { exact: true }).selectOption('timeout');
      await filter.click();
      await expect(page).toHaveURL(/error_class=timeout/);
      await expect(rows).toHaveCount(1);
      await expect(rows.first().locator('td[data-label="Last answer"]')).toHaveText('timeout');
      await expect(rows.first().locator('td[data-label="Last answer"]')).toHaveAttribute('title', 'No answer within 1 s');

      // A link with filters opens with them, in the form too.
      await page.goto(`${env.ui}#/${ns}/deliveries?type=${first}&error_class=http_4xx`);
      await expect(rows).toHaveCount(1);
      await openFilters(page);
      await expect(page.getByLabel('Event type')).toHaveValue(first);
      await expect(page.getByLabel('Error', { exact: true })).toHaveValue('http_4xx');
      await expect(page.locator('summary', { hasText: 'Filters' })).toHaveText('Filters (2 active)');
      await look(page, 'deliveries-filtered');
    });

    test('what sends or stops traffic asks first, with the figures, and Cancel sends nothing', async ({ page, ns }) => {
      const type = await newType('confirm.me');
      const target = unique('orders');
      const webhookId = await hook(ns, `switch/${target}`, [type], { maxAttempts: 1, description: 'Orders' });
      const ev = await push(ns, type, { n: 1 });
      await push(ns, type, { n: 2 });
      await settled(ns, webhookId, 2);
      await fetch(`${env.receiver}/control/${target}`, { method: 'POST' });
      const calls = apiCalls(page);
      const sent = (method: string) => calls.filter((c) => c.method === method);
      await signIn(page, ns);
      await page.goto(`${env.ui}#/${ns}/webhooks/${webhookId}`);
      const dialog = page.getByRole('dialog');
      const state = page.getByTestId('webhook-state');
      await expect(state).toHaveText('active');

      // Pause: cancelled, nothing happens; confirmed, it pauses.
      await page.getByRole('button', { name: 'Pause' }).click();
      await expect(dialog).toContainText(`Sparrow stops sending to ${env.receiver}/switch/${target}`);
      await look(page, 'confirm-pause', false);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect(dialog).toBeHidden();
      await expect(state).toHaveText('active');
      expect(sent('PauseWebhook')).toHaveLength(0);
      await page.getByRole('button', { name: 'Pause' }).click();
      await dialog.getByRole('button', { name: 'Pause' }).click();
      await expect(state).toHaveText('paused');
      await page.getByRole('button', { name: 'Resume' }).click();
      await expect(dialog).toContainText('Resume this webhook?');
      await dialog.getByRole('button', { name: 'Resume' }).click();
      await expect(state).toHaveText('active');

      // Retry failed: counted first (a dry run), the count in the question.
      const recent = page.getByRole('table', { name: 'Recent deliveries' });
      await page.getByRole('button', { name: 'Retry failed' }).click();
      await expect(dialog.getByTestId('retry-count')).toContainText('This will send 2 deliveries again');
      expect(sent('RetryFailedDeliveries').map((c) => c.body.dryRun)).toEqual([true]);
      await look(page, 'confirm-retry-failed', false);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect(recent.getByText('failed')).toHaveCount(2);
      await page.getByRole('button', { name: 'Retry failed' }).click();
      await dialog.getByRole('button', { name: 'Send 2 deliveries again' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'scheduled again' })).toHaveText('2 deliveries scheduled again.');
      expect(sent('RetryFailedDeliveries').map((c) => !!c.body.dryRun)).toEqual([true, true, false]);
      await expect(recent.getByText('succeeded')).toHaveCount(2, { timeout: 25_000 });

      // A test send names where it goes.
      await page.getByRole('button', { name: 'Send test event' }).click();
      await expect(dialog).toContainText(`to ${env.receiver}/switch/${target}, and to no other webhook`);
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // Sending a succeeded delivery again is a replay: said so.
      const [d] = await deliveriesOf(ns, { webhookId });
      await page.goto(`${env.ui}#/${ns}/deliveries/${d.id}`);
      await expect(page.getByTestId('delivery-status')).toHaveText('succeeded');
      await page.getByRole('button', { name: 'Send again' }).click();
      await expect(dialog).toContainText('Send this delivery again?');
      await expect(dialog).toContainText('It succeeded');
      await look(page, 'confirm-replay', false);
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // Pushing an event again, and sending a new one, count the subscriptions they reach.
      await page.goto(`${env.ui}#/${ns}/events/${ev}`);
      await page.getByRole('button', { name: 'Push again' }).click();
      await expect(dialog).toContainText('1 subscription');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await page.goto(`${env.ui}#/${ns}/events/new?type=${type}`);
      await expect(page.getByLabel('Event type')).toHaveValue(type);
      await page.getByRole('button', { name: 'Send event' }).click();
      await expect(dialog.getByTestId('send-reach')).toContainText('1 subscription');
      await look(page, 'confirm-send-event', false);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Send a test event' })).toBeVisible();

      // Nothing was sent but what was confirmed.
      for (const method of ['PushEvent', 'RepushEvent', 'RetryDelivery', 'SendTestEvent']) expect(sent(method), method).toHaveLength(0);
      expect(sent('PauseWebhook')).toHaveLength(1);
      expect(sent('ResumeWebhook')).toHaveLength(1);
    });

    test('a retry by hand: the notice lasts until its attempt is recorded, which the page then shows', async ({ page, ns }) => {
      const type = await newType('retry.byhand');
      // A receiver that takes longer than the timeout: each attempt lasts 2 s, and fails.
      const webhookId = await hook(ns, `slow/${ns}`, [type], { maxAttempts: 1, timeoutSeconds: 2 });
      await push(ns, type, { n: 1 });
      const [d] = await settled(ns, webhookId, 1);
      await signIn(page, ns);
      await page.goto(`${env.ui}#/${ns}/deliveries/${d.id}`);
      await expect(page.getByTestId('delivery-status')).toHaveText('failed');
      await expect(page.locator('[data-attempt="1"] [data-testid="attempt-error"]')).toHaveText('No answer within 2 s');

      await page.getByRole('button', { name: 'Retry', exact: true }).click();
      await expect(page.getByRole('dialog')).toContainText('one extra attempt');
      await page.getByRole('dialog').getByRole('button', { name: 'Retry now' }).click();
      const notice = page.getByRole('status').filter({ hasText: 'Scheduled again' });
      await expect(notice).toHaveText('Scheduled again: a new attempt goes out shortly.');
      await look(page, 'delivery-retry-notice');
      // The attempt takes 2 s; once recorded, the notice goes and the attempt shows.
      await expect(page.locator('[data-attempt="2"]')).toBeVisible({ timeout: 20_000 });
      await expect(notice).toHaveCount(0);
      await expect(page.locator('[data-attempt="2"] [data-testid="attempt-error"]')).toHaveText('No answer within 2 s');
      await expect(page.getByTestId('attempt-count')).toContainText('by hand');
      await look(page, 'delivery-retried');
    });

    test("Sparrow's own events are hidden unless asked for, and can't be sent from the UI", async ({ page, ns }) => {
      const type = await newType('system.hidden');
      const webhookId = await hook(ns, `fail/${ns}`, [type], { maxAttempts: 1 });
      const mine = await push(ns, type, { n: 1 });
      await settled(ns, webhookId, 1);
      // The delivery used up its attempts: Sparrow raises an event of its own.
      let system = '';
      await expect
        .poll(async () => {
          const res = await call<{ events?: { id: string; eventName: string }[] }>('webhook.EventService/ListEvents', { namespace: ns, limit: 25 });
          system = res.events?.find((e) => e.eventName.startsWith('sparrow.'))?.id ?? '';
          return system;
        }, { timeout: 30_000 })
        .not.toBe('');

      await signIn(page, ns);
      await page.goto(`${env.ui}#/${ns}/events`);
      const table = page.getByRole('table', { name: 'Events' });
      const toggle = page.getByRole('checkbox', { name: 'Show system events' });
      await expect(table.locator(`tr[data-event="${mine}"]`)).toBeVisible();
      await expect(table.locator(`tr[data-event="${system}"]`)).toHaveCount(0);
      await expect(toggle).not.toBeChecked();
      await expect(page.getByLabel('Event type').locator('option', { hasText: /^sparrow\./ })).toHaveCount(0);

      await toggle.check();
      await expect(page).toHaveURL(/system=1/);
      await expect(table.locator(`tr[data-event="${system}"]`)).toContainText("Sparrow's own");
      expect(await page.getByLabel('Event type').locator('option', { hasText: /^sparrow\./ }).count()).toBeGreaterThan(0);
      await look(page, 'events-system');
      // Kept in the URL.
      await page.reload();
      await expect(toggle).toBeChecked();
      await expect(table.locator(`tr[data-event="${system}"]`)).toBeVisible();

      // Its page offers neither pushing it again nor sending another.
      await page.getByRole('link', { name: `Event ${system}` }).click();
      await expect(page.getByTestId('system-event')).toBeVisible();
      await expect(page.getByRole('button', { name: 'Push again' })).toHaveCount(0);
      await expect(page.getByRole('link', { name: 'Send another' })).toHaveCount(0);
      // Nor does the form, even asked by its address.
      await page.goto(`${env.ui}#/${ns}/events/new?type=sparrow.delivery.exhausted`);
      await expect(page.getByLabel('Event type')).toHaveValue('');
      await expect(page.getByRole('button', { name: 'Send event' })).toBeDisabled();

      await page.goto(`${env.ui}#/${ns}/events?system=1`);
      await toggle.uncheck();
      await expect(page).not.toHaveURL(/system=1/);
      await expect(table.locator(`tr[data-event="${system}"]`)).toHaveCount(0);
    });

    test('health over an hour, a day or a week, by status and cause; a paused webhook is paused', async ({ page, ns }) => {
      const type = await newType('health.view');
      const quiet = await hook(ns, `ok/${ns}-quiet`, [await newType('health.quiet')]);
      const target = unique('ledger');
      const webhookId = await hook(ns, `switch/${target}`, [type], { maxAttempts: 1 });
      await signIn(page, ns);

      // No attempts: said, not drawn.
      await page.goto(`${env.ui}#/${ns}/webhooks/${quiet}`);
      await expect(page.getByTestId('chart-empty')).toHaveCount(2);
      await expect(page.getByTestId('chart-empty').first()).toHaveText('No attempts in the last hour.');
      await expect(page.getByText('No attempts in the window.')).toBeVisible();

      for (let i = 0; i < 2; i++) await push(ns, type, { n: i });
      await settled(ns, webhookId, 2);
      await fetch(`${env.receiver}/control/${target}`, { method: 'POST' });
      for (let i = 2; i < 5; i++) await push(ns, type, { n: i });
      await settled(ns, webhookId, 5);

      await page.goto(`${env.ui}#/${ns}/webhooks/${webhookId}`);
      const byStatus = page.getByRole('list', { name: 'Attempts by HTTP status' });
      await expect(byStatus.locator('li[data-key="200"]')).toContainText('200 OK');
      await expect(byStatus.locator('li[data-key="200"]')).toContainText('3');
      await expect(byStatus.locator('li[data-key="500"]')).toContainText('500 Internal Server Error');
      await expect(byStatus.locator('li[data-key="500"]')).toContainText('2');
      await expect(page.getByRole('list', { name: 'Failures by cause' }).locator('li[data-key="http_5xx"]')).toContainText('HTTP 5xx (server errors)');

      // Few attempts still make bars one can see: wide enough, tall enough, with axes.
      const chart = page.locator('figure[data-kind="outcomes"]');
      await expect(page.getByRole('heading', { name: 'Attempts per minute' })).toBeVisible();
      const bars = await chart.locator('rect.ok, rect.bad').evaluateAll((rects) =>
        rects.map((r) => ({ w: Number(r.getAttribute('width')), h: Number(r.getAttribute('height')) })),
      );
      expect(bars.length).toBeGreaterThan(0);
      for (const bar of bars) {
        expect(bar.w).toBeGreaterThanOrEqual(3);
        expect(bar.h).toBeGreaterThanOrEqual(2);
      }
      expect(await chart.locator('text.axis').count()).toBeGreaterThan(3);
      await look(page, 'health-hour');

      // A day, then a week: longer steps, kept in the URL.
      const spans = page.getByRole('group', { name: 'Health over' });
      await spans.getByRole('link', { name: '24 hours' }).click();
      await expect(page).toHaveURL(/health=24h/);
      await expect(spans.getByRole('link', { name: '24 hours' })).toHaveAttribute('aria-current', 'true');
      await expect(page.getByTestId('health-window')).toHaveText('over the last 24 hours');
      await expect(page.getByRole('heading', { name: 'Attempts per 10 minutes' })).toBeVisible();
      await expect(byStatus.locator('li[data-key="200"]')).toContainText('3');
      await look(page, 'health-day');
      await spans.getByRole('link', { name: '7 days' }).click();
      await expect(page).toHaveURL(/health=7d/);
      await expect(page.getByTestId('health-window')).toHaveText('over the last 7 days');
      await expect(page.getByRole('heading', { name: 'Attempts per hour' })).toBeVisible();
      await expect(chart.locator('rect.ok')).not.toHaveCount(0);
      await look(page, 'health-week');
      await page.reload();
      await expect(page.getByTestId('health-window')).toHaveText('over the last 7 days');

      // Paused: paused, in the header, the health and the list, not degraded.
      await call('webhook.WebhookService/PauseWebhook', { namespace: ns, webhookId });
      await page.goto(`${env.ui}#/${ns}/webhooks/${webhookId}`);
      await expect(page.getByTestId('webhook-state')).toHaveText('paused');
      await expect(page.getByTestId('health-state')).toContainText('paused');
      await expect(page.getByTestId('health-state')).not.toContainText('degraded');
      await expect(page.getByTestId('webhook-health')).toHaveCount(0);
      await look(page, 'health-paused');
      await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
      const row = page.getByRole('row', { name: new RegExp(`switch/${target}`) });
      await expect(row.locator('.c-health')).toHaveText('paused');
    });

    test('attempt errors are in words: no Go error chains, timeouts as no answer within the timeout', async ({ page, ns }) => {
      const type = await newType('errors.words');
      // Nothing listens on port 1.
      const refused = await hook(ns, 'http://127.0.0.1:1/hooks', [type], { maxAttempts: 1 });
      const slow = await hook(ns, `slow/${ns}`, [type], { maxAttempts: 1, timeoutSeconds: 1 });
      await push(ns, type, { n: 1 });
      const [r] = await settled(ns, refused, 1);
      const [s] = await settled(ns, slow, 1);
      await signIn(page, ns);

      await page.goto(`${env.ui}#/${ns}/deliveries/${r.id}`);
      const error = page.locator('[data-attempt="1"] [data-testid="attempt-error"]');
      await expect(error).toHaveText(/^Connection refused/);
      await expect(error).toContainText('127.0.0.1:1');
      await expect(page.getByTestId('last-error')).toHaveText(/^Connection refused/);
      await expect(page.locator('[data-attempt="1"]')).toContainText('connection refused');
      for (const jargon of ['Post "', 'url:', 'dial tcp']) await expect(page.locator('body')).not.toContainText(jargon);
      await look(page, 'error-refused');

      await page.goto(`${env.ui}#/${ns}/deliveries/${s.id}`);
      await expect(page.locator('[data-attempt="1"] [data-testid="attempt-error"]')).toHaveText('No answer within 1 s');
      await expect(page.getByTestId('last-error')).toHaveText('No answer within 1 s');
      for (const jargon of ['Post "', 'deadline exceeded', 'Client.Timeout']) await expect(page.locator('body')).not.toContainText(jargon);

      // The lists say the same, in their tooltips.
      await page.goto(`${env.ui}#/${ns}/deliveries`);
      const answer = page.locator(`tr[data-delivery="${s.id}"] td[data-label="Last answer"]`);
      await expect(answer).toHaveText('timeout');
      await expect(answer).toHaveAttribute('title', 'No answer within 1 s');
      await expect(page.locator(`tr[data-delivery="${r.id}"] td[data-label="Last answer"]`)).toHaveText('connection refused');
      await look(page, 'error-list');
    });

    test('rotating a secret lets one choose the grace period, said in the confirmation', async ({ page, ns }) => {
      const type = await newType('secret.rotated');
      const webhookId = await hook(ns, `ok/${ns}`, [type]);
      const calls = apiCalls(page);
      await signIn(page, ns);
      await page.goto(`${env.ui}#/${ns}/webhooks/${webhookId}`);
      const dialog = page.getByRole('dialog');

      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await expect(dialog.getByRole('radio', { name: '24 hours (default)' })).toBeChecked();
      await expect(dialog).toContainText('For 24 hours deliveries are signed with the old and the new one');
      await dialog.getByRole('radio', { name: '7 days' }).check();
      await expect(dialog).toContainText('For 7 days deliveries are signed');
      // None: the old secret stops at once, and the dialog says what that means.
      await dialog.getByRole('radio', { name: /^None/ }).check();
      await expect(dialog).toContainText('The old one stops signing at once');
      await look(page, 'rotate-grace', false);
      await dialog.getByRole('button', { name: 'Rotate' }).click();
      await expect(page.getByRole('heading', { name: 'New signing secret' })).toBeVisible();
      expect(calls.filter((c) => c.method === 'RotateWebhookSecret').map((c) => String(c.body.gracePeriodSeconds))).toEqual(['0']);
      await push(ns, type, { n: 1 });
      let [d] = await settled(ns, webhookId, 1);
      expect(await signatures(ns, d.id)).toHaveLength(1);

      // An hour: the replaced secret signs beside the new one.
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await dialog.getByRole('radio', { name: '1 hour' }).check();
      await expect(dialog).toContainText('For 1 hour deliveries are signed with the old and the new one');
      await dialog.getByRole('button', { name: 'Rotate' }).click();
      await expect(dialog).toBeHidden();
      expect(calls.filter((c) => c.method === 'RotateWebhookSecret').map((c) => String(c.body.gracePeriodSeconds))).toEqual(['0', '3600']);
      await push(ns, type, { n: 2 });
      [d] = await settled(ns, webhookId, 2);
      expect(await signatures(ns, d.id)).toHaveLength(2);
    });
  });
}
