// A webhook's newer features, one test each: payload filters, Ed25519
// signing, test sends and recovering missed events.
import type { Page } from '@playwright/test';
import { call, env, expect, expectFits, phone, shot, signIn, test, unique } from './fixtures';

interface Attempt {
  requestHeaders?: Record<string, string>;
}
interface Delivery {
  id: string;
  status: string;
  attempts?: Attempt[];
}

/** deliveriesOf lists a webhook's deliveries through the API, newest first. */
async function deliveriesOf(ns: string, webhookId: string): Promise<Delivery[]> {
  const res = await call<{ deliveries?: Delivery[] }>('webhook.DeliveryService/ListDeliveries', { namespace: ns, webhookId });
  return res.deliveries ?? [];
}

/** received is how many deliveries reached the receiver's path name. */
async function received(name: string): Promise<number> {
  const res = await fetch(`${env.receiver}/control/${name}`);
  return ((await res.json()) as { received: number }).received;
}

/** localInput is d as an <input type="datetime-local"> takes it. */
function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function openWebhook(page: Page, ns: string, id: string) {
  await page.goto(`${env.ui}#/${ns}/webhooks/${id}`);
  await expect(page.getByTestId('webhook-state')).toHaveText('active');
}

test('a payload filter: tried live on a sample, refused when broken, saved and shown', async ({ page, ns }) => {
  const type = unique('order.placed');
  await call('webhook.EventService/RegisterEvent', { name: type });
  const wh = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}`, events: [type] });
  await call('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { total: 150, currency: 'EUR' }, labels: { region: 'eu' } });
  await signIn(page, ns);
  await openWebhook(page, ns, wh.webhookId);
  await page.getByRole('link', { name: `Edit the ${type} subscription` }).click();

  // The sample is the latest event: its payload and its labels.
  await expect(page.getByRole('textbox', { name: 'Sample payload' })).toHaveValue(/"total": 150/);
  await expect(page.getByRole('textbox', { name: 'Sample label 1' })).toHaveValue('region');
  const filter = page.getByRole('textbox', { name: /^Payload filter/ });
  const result = page.getByTestId('filter-result');
  await expect(result).toHaveText('No filter: every event of the type is delivered.');

  await filter.fill('payload.total > 100 && labels.region == "eu"');
  await expect(result).toHaveText('The sample event matches: it would be delivered.');
  await shot(page, 'subscription-filter');
  // The sample's labels count.
  await page.getByRole('textbox', { name: 'Sample value 1' }).fill('us');
  await expect(result).toHaveText('The sample event does not match: it would not be delivered.');
  await page.getByRole('textbox', { name: 'Sample value 1' }).fill('eu');
  await expect(result).toContainText('matches');
  // So does the sample payload.
  await page.getByRole('textbox', { name: 'Sample payload' }).fill('{"total": 99, "currency": "EUR"}');
  await expect(result).toHaveText('The sample event does not match: it would not be delivered.');

  // An error names its place, and shows it in the filter.
  await filter.fill('payload.total > 100 &&\n  lables.region == "eu"');
  await expect(result).toContainText("undeclared reference to 'lables'");
  await expect(result).toContainText('2:');
  await expect(page.getByTestId('filter-error-at')).toHaveText('lables.region == "eu"');
  await expect(page.getByTestId('filter-error-at').locator('mark')).not.toBeEmpty();
  await expect(filter).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'subscription-filter-error');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'subscription-filter-error-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: /^Line 2, column \d+: show it in the filter$/ }).click();
  await expect(filter).toBeFocused();
  // The cursor is on the second line, where the error is.
  expect(await filter.evaluate((el: HTMLTextAreaElement) => el.selectionStart)).toBeGreaterThan(23);

  // A broken filter is not saved; a good one is, and shows on the webhook.
  await page.getByRole('button', { name: 'Save subscription' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not saved' })).toBeVisible();
  await filter.fill('payload.total > 100');
  await page.getByRole('button', { name: 'Save subscription' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.reload();
  await expect(filter).toHaveValue('payload.total > 100');
  await page.getByRole('link', { name: 'Back to the webhook' }).click();
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row', { name: new RegExp(type.replace(/\./g, '\\.')) });
  await expect(row.getByTestId('payload-filter')).toHaveText('payload.total > 100');

  // Fan-out applies it: only the event over 100 is delivered.
  await call('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { total: 5 } });
  await call('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { total: 500 } });
  await expect.poll(async () => (await deliveriesOf(ns, wh.webhookId)).length).toBe(2);
});

test('an Ed25519 webhook: created with a public key, signs v1a, rotated back to HMAC', async ({ page, ns }) => {
  const type = unique('payout.sent');
  await call('webhook.EventService/RegisterEvent', { name: type });
  await signIn(page, ns);
  await page.goto(`${env.ui}#/${ns}/webhooks/new`);
  await page.getByLabel('Endpoint URL').fill(`${env.receiver}/ok/${ns}`);
  await page.getByRole('checkbox', { name: type }).check();
  // HMAC unless chosen otherwise.
  await expect(page.getByRole('radio', { name: /^HMAC-SHA256/ })).toBeChecked();
  await page.getByRole('radio', { name: /^Ed25519/ }).check();
  await expect(page.getByLabel(/^Signing key/)).toBeVisible();
  await shot(page, 'webhook-new-ed25519');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(page.getByRole('heading', { name: 'Webhook created' })).toBeVisible();
  await expect(page.getByTestId('signing-secret')).toHaveText(/^whsk_/);
  await expect(page.getByTestId('public-key')).toHaveText(/^whpk_/);
  const publicKey = (await page.getByTestId('public-key').textContent())!;
  await expect(page.getByRole('button', { name: 'Copy public key' })).toBeVisible();

  await page.getByRole('link', { name: 'Go to the webhook' }).click();
  await expect(page.getByTestId('signature-scheme')).toHaveText(/^Ed25519/);
  await expect(page.getByTestId('public-key')).toHaveText(publicKey);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copy public key' }).click();
  await expect(page.getByRole('button', { name: 'Copy public key' })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(publicKey);
  await shot(page, 'webhook-ed25519');

  // Its deliveries carry v1a signatures.
  const url = new URL(page.url());
  const webhookId = decodeURIComponent(url.hash.split('/').pop()!);
  await call('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { payout: 'po_1' } });
  await expect.poll(async () => (await deliveriesOf(ns, webhookId))[0]?.status).toBe('succeeded');
  const [d] = await deliveriesOf(ns, webhookId);
  const got = await call<{ delivery: Delivery }>('webhook.DeliveryService/GetDelivery', { namespace: ns, deliveryId: d.id });
  const headers = got.delivery.attempts?.[0]?.requestHeaders ?? {};
  const signature = Object.entries(headers).find(([k]) => k.toLowerCase() === 'webhook-signature')?.[1];
  expect(signature).toMatch(/^v1a,/);

  // Rotation offers the scheme, the current one first.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('radio', { name: /^Ed25519/ })).toBeChecked();
  await dialog.getByRole('radio', { name: /^HMAC-SHA256/ }).check();
  await expect(dialog).toContainText('A change of scheme');
  await dialog.getByRole('button', { name: 'Rotate' }).click();
  await expect(page.getByRole('heading', { name: 'New signing secret' })).toBeVisible();
  await expect(page.getByTestId('signing-secret')).toHaveText(/^whsec_/);
  await expect(page.getByTestId('signature-scheme')).toHaveText(/^HMAC-SHA256/);
});

test('test send: an example event to one webhook and its answer, in place', async ({ page, ns }) => {
  const type = unique('order.shipped');
  const other = unique('order.returned');
  await call('webhook.EventService/RegisterEvent', {
    name: type,
    schema: { type: 'object', required: ['order_id'], properties: { order_id: { type: 'string', examples: ['ord_example'] } } },
  });
  await call('webhook.EventService/RegisterEvent', { name: other });
  const good = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}`, events: [type] });
  const target = unique('warehouse');
  const bad = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/fail/${target}`,
    events: [type],
    maxAttempts: 1,
  });
  await signIn(page, ns);
  await openWebhook(page, ns, good.webhookId);
  const panel = page.getByRole('region', { name: 'Test', exact: true });
  const typeBox = panel.getByLabel('Event type');
  // The webhook's own type first; Sparrow's own not at all.
  await expect(typeBox).toHaveValue(type);
  await expect(typeBox.locator('option', { hasText: other })).toHaveCount(1);
  await expect(typeBox.locator('option', { hasText: /^sparrow\./ })).toHaveCount(0);

  // No payload: the server makes one from the type's schema. Asked first.
  await panel.getByRole('button', { name: 'Send test event' }).click();
  await expect(page.getByRole('dialog')).toContainText("a payload made from the type's schema");
  await page.getByRole('dialog').getByRole('button', { name: 'Send test' }).click();
  await expect(panel.getByRole('group', { name: 'Payload sent' })).toContainText('"order_id": "ord_example"');
  await expect(panel.getByTestId('test-status')).toHaveText('succeeded');
  await expect(panel).toContainText('HTTP 200');
  await expect(panel.getByTestId('test-duration')).toHaveText(/\d+(\.\d)? m?s/);
  await expect(panel.getByRole('group', { name: 'Response body' })).toContainText('"received":true');
  await shot(page, 'webhook-test-send');
  // It went to this webhook only.
  expect(await deliveriesOf(ns, bad.webhookId)).toEqual([]);
  await expect(page.getByRole('table', { name: 'Recent deliveries' }).getByText('succeeded')).toBeVisible();

  // A payload of one's own; one that is not an object is refused here.
  const payload = panel.getByLabel(/^Example payload/);
  await payload.fill('[1, 2]');
  await panel.getByRole('button', { name: 'Send test event' }).click();
  await expect(panel.getByRole('alert')).toContainText('JSON object');
  await expect(payload).toHaveAttribute('aria-invalid', 'true');
  await payload.fill('{"order_id": "ord_7", "note": "by hand"}');
  await panel.getByRole('button', { name: 'Send test event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Send test' }).click();
  await expect(panel.getByRole('group', { name: 'Payload sent' })).toContainText('"note": "by hand"');
  await expect(panel.getByTestId('test-status')).toHaveText('succeeded');

  // A failing receiver: its answer shown as text, not run.
  await openWebhook(page, ns, bad.webhookId);
  await panel.getByRole('button', { name: 'Send test event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Send test' }).click();
  await expect(panel.getByTestId('test-status')).toHaveText('failed');
  await expect(panel).toContainText('HTTP 500');
  await expect(panel.getByRole('group', { name: 'Response body' })).toContainText('<script>window.__pwned = "response"</script>');
  expect(await page.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
  expect(await received(target)).toBe(1);

  await page.setViewportSize(phone);
  await shot(page, 'phone-webhook-test-send');
  await expectFits(page, 'the webhook page with a test sent');
});

test('recover: re-sends what a webhook missed in a range, with progress', async ({ page, ns }) => {
  const type = unique('ticket.updated');
  const target = unique('support');
  await call('webhook.EventService/RegisterEvent', { name: type });
  const wh = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/switch/${target}`,
    events: [type],
    maxAttempts: 1,
  });
  for (let i = 1; i <= 3; i++) await call('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { ticket: `T-${i}` } });
  await expect.poll(async () => (await deliveriesOf(ns, wh.webhookId)).filter((d) => d.status === 'failed').length).toBe(3);
  // The receiver is back.
  await fetch(`${env.receiver}/control/${target}`, { method: 'POST' });

  await signIn(page, ns);
  await openWebhook(page, ns, wh.webhookId);
  const panel = page.getByRole('region', { name: 'Recover', exact: true });
  await expect(panel.getByText('None yet.')).toBeVisible();
  const since = panel.getByLabel('Since');
  const until = panel.getByLabel(/^Until/);
  const hourAgo = new Date(Date.now() - 3600_000);

  // A range that ends before it starts is refused before asking.
  await since.fill(localInput(hourAgo));
  await until.fill(localInput(new Date(hourAgo.getTime() - 60_000)));
  await panel.getByRole('button', { name: 'Recover…' }).click();
  await expect(panel.getByRole('alert')).toHaveText('Until: must be after since.');
  await expect(until).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('dialog')).toBeHidden();

  // Asked to confirm, saying what it will do; cancelling does nothing.
  await until.fill('');
  await panel.getByRole('button', { name: 'Recover…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText(`${env.receiver}/switch/${target}`);
  await expect(dialog).toContainText('did not receive successfully');
  await expect(dialog).toContainText('until now');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(panel.getByText('None yet.')).toBeVisible();

  await panel.getByRole('button', { name: 'Recover…' }).click();
  await shot(page, 'webhook-recover-confirm', false);
  await dialog.getByRole('button', { name: 'Start recovery' }).click();
  await expect(panel.getByRole('status').filter({ hasText: 'started' })).toHaveText(/^Recovery rcv_\S+ started/);
  const item = panel.getByRole('list', { name: 'Recoveries' }).getByRole('listitem');
  await expect(item).toHaveCount(1);
  // It refreshes by itself until done.
  await expect(item.getByTestId('recovery-status')).toHaveText('succeeded');
  await expect(item.getByTestId('recovery-progress')).toHaveText('3 / 3 events checked, 3 re-sent');
  // Only a running recovery can be cancelled.
  await expect(item.getByRole('button', { name: /^Cancel recovery/ })).toHaveCount(0);
  await expect.poll(() => received(target)).toBe(6);
  await shot(page, 'webhook-recovered');

  await page.setViewportSize(phone);
  await expectFits(page, 'the webhook page with a recovery');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'phone-webhook-recovered-dark');
});
