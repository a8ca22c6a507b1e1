// Runs after the other tests, alone (see playwright.config.ts): pushing
// 10,000 events keeps the server busy for a few seconds.
import { call, env, expect, shot, signIn, test, unique } from './fixtures';

test('a namespace with 10,000 deliveries pages through them, 25 at a time', async ({ page, ns }) => {
  const type = unique('bulk.created');
  await call('webhook.EventService/RegisterEvent', { name: type });
  // A paused webhook: its deliveries wait, so the receiver isn't flooded.
  await call('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}`, events: [type], active: false });
  for (let batch = 0; batch < 10; batch++) {
    const events = Array.from({ length: 1000 }, (_, i) => ({ namespace: ns, event: type, payload: { n: batch * 1000 + i } }));
    await call('webhook.EventService/PushEvents', { events });
  }
  await expect.poll(() => countDeliveries(ns), { timeout: 30_000 }).toBe(10_000);

  const limits: number[] = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/webhook.DeliveryService/ListDeliveries')) limits.push(req.postDataJSON().limit);
  });
  await signIn(page, ns);
  const started = Date.now();
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
  await expect(rows).toHaveCount(25);
  expect(Date.now() - started).toBeLessThan(3000);
  await expect(rows.first().getByText('waiting')).toBeVisible();
  await shot(page, 'deliveries-10000');

  const pager = page.getByRole('navigation', { name: 'Delivery pages' });
  const firstId = await rows.first().getAttribute('data-delivery');
  await pager.getByRole('button', { name: 'Older →' }).click();
  await expect(pager.getByText('Page 2')).toBeVisible();
  await expect(rows).toHaveCount(25);
  expect(await rows.first().getAttribute('data-delivery')).not.toBe(firstId);
  await pager.getByRole('button', { name: 'Older →' }).click();
  await expect(pager.getByText('Page 3')).toBeVisible();
  await pager.getByRole('button', { name: '← Newer' }).click();
  await pager.getByRole('button', { name: '← Newer' }).click();
  await expect(pager.getByText('Page 1')).toBeVisible();
  await expect(rows.first()).toHaveAttribute('data-delivery', firstId!);
  // Never more than a page at a time.
  expect(limits.length).toBeGreaterThan(3);
  expect(new Set(limits)).toEqual(new Set([25]));
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
