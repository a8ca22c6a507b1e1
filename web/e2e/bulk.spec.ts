// Runs after the other tests, alone (see playwright.config.ts): pushing
// 10,000 events keeps the server busy for a few seconds.
import type { Locator } from '@playwright/test';
import { call, env, expect, shot, signIn, test, unique } from './fixtures';

test('a namespace with 10,000 events and deliveries pages through them, 25 at a time', async ({ page, ns }) => {
  const type = unique('bulk.created');
  await call('webhook.EventService/RegisterEvent', { name: type });
  // A paused webhook: its deliveries wait, so the receiver isn't flooded.
  await call('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}`, events: [type], active: false });
  for (let batch = 0; batch < 10; batch++) {
    const events = Array.from({ length: 1000 }, (_, i) => ({ namespace: ns, event: type, payload: { n: batch * 1000 + i } }));
    await call('webhook.EventService/PushEvents', { events });
  }
  await expect.poll(() => countDeliveries(ns), { timeout: 30_000 }).toBe(10_000);

  // What the lists ask for: never more than a page at a time.
  const limits = { ListDeliveries: [] as number[], ListEvents: [] as number[] };
  page.on('request', (req) => {
    const method = /\/webhook\.\w+\/(ListDeliveries|ListEvents)$/.exec(req.url())?.[1] as keyof typeof limits | undefined;
    if (method) limits[method].push(req.postDataJSON().limit);
  });
  await signIn(page, ns);

  // The deliveries.
  let started = Date.now();
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
  await expect(rows).toHaveCount(25);
  expect(Date.now() - started).toBeLessThan(3000);
  await expect(rows.first().getByText('waiting')).toBeVisible();
  await shot(page, 'deliveries-10000');
  await pageThrough('Delivery pages', rows, 'data-delivery');

  // The events: the same 10,000, from the events list.
  started = Date.now();
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  const events = page.getByRole('table', { name: 'Events' }).locator('tbody tr');
  await expect(events).toHaveCount(25);
  expect(Date.now() - started).toBeLessThan(3000);
  await shot(page, 'events-10000');
  await pageThrough('Event pages', events, 'data-event');
  // Of one type, too.
  await page.getByLabel('Event type').selectOption(type);
  await expect(page).toHaveURL(/type=/);
  await expect(events).toHaveCount(25);
  await expect(page.getByRole('navigation', { name: 'Event pages' }).getByText('Page 1')).toBeVisible();

  expect(limits.ListDeliveries.length).toBeGreaterThan(3);
  expect(new Set(limits.ListDeliveries)).toEqual(new Set([25]));
  expect(limits.ListEvents.length).toBeGreaterThan(3);
  expect(new Set(limits.ListEvents)).toEqual(new Set([25]));

  /** pageThrough goes two pages on, and back, checking each is a new page of 25. */
  async function pageThrough(label: string, rows: Locator, idAttr: string) {
    const pager = page.getByRole('navigation', { name: label });
    const table = rows.locator('xpath=ancestor::div[contains(@class, "table-wrap")]');
    const firstId = (await rows.first().getAttribute(idAttr))!;
    await pager.getByRole('button', { name: 'Older →' }).click();
    await expect(pager.getByText('Page 2')).toBeVisible();
    await expect(rows.first()).not.toHaveAttribute(idAttr, firstId);
    await expect(table).toHaveAttribute('aria-busy', 'false');
    await expect(rows).toHaveCount(25);
    const secondId = (await rows.first().getAttribute(idAttr))!;
    await pager.getByRole('button', { name: 'Older →' }).click();
    await expect(pager.getByText('Page 3')).toBeVisible();
    await expect(rows.first()).not.toHaveAttribute(idAttr, secondId);
    await pager.getByRole('button', { name: '← Newer' }).click();
    await expect(rows.first()).toHaveAttribute(idAttr, secondId);
    await pager.getByRole('button', { name: '← Newer' }).click();
    await expect(pager.getByText('Page 1')).toBeVisible();
    await expect(rows.first()).toHaveAttribute(idAttr, firstId);
  }
});

/** countDeliveries pages through a namespace's deliveries, 100 at a time. */
async function countDeliveries(namespace: string): Promise<number> {
  let n = 0;
  let cursor = '';
  do {
    const res = await call<{ deliveries?: unknown[]; nextCursor?: string }>('webhook.DeliveryService/ListDeliveries', { namespace, limit: 100, cursor });
    n += res.deliveries?.length ?? 0;
    cursor = res.nextCursor ?? '';
  } while (cursor);
  return n;
}
