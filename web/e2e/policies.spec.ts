// Delivery policies: a webhook's retry schedule and rate limit, and
// ordering keys, with the deliveries that wait for their key's turn.
import { call, env, expect, expectFits, phone, shot, signIn, test, unique } from './fixtures';

interface Delivery {
  id: string;
  eventId: string;
  status: string;
  orderingKey?: string;
  waitsFor?: string;
}

/** deliveriesOf lists a webhook's deliveries through the API, newest first. */
async function deliveriesOf(ns: string, webhookId: string): Promise<Delivery[]> {
  const res = await call<{ deliveries?: Delivery[] }>('webhook.DeliveryService/ListDeliveries', { namespace: ns, webhookId });
  return res.deliveries ?? [];
}

test('a webhook with a retry schedule and a rate limit: created, shown, edited', async ({ page, ns }) => {
  const type = unique('shipment.sent');
  await call('webhook.EventService/RegisterEvent', { name: type });
  await signIn(page, ns);
  await page.goto(`${env.ui}#/${ns}/webhooks/new`);
  await page.getByLabel('Endpoint URL').fill(`${env.receiver}/ok/${ns}`);
  await page.getByRole('checkbox', { name: type }).check();

  // A schedule that is not one is refused before anything is sent.
  const schedule = page.getByLabel(/^Retry schedule/);
  await schedule.fill('5s, 5x, 30m');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(schedule).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('alert')).toHaveText('"5x" is not a duration such as 30s, 5m or 2h.');
  await expect(schedule).toBeFocused();

  // The attempts follow the schedule: a first attempt and one per wait.
  await schedule.fill('5s, 5m  30m,2h');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByLabel('Attempts', { exact: true })).toHaveValue('5');

  // The server's own check, shown next to the field it names.
  const rate = page.getByLabel(/^Rate limit/);
  await rate.fill('20000');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(rate).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('alert')).toContainText('rate limit per second');
  await expect(page.getByRole('alert')).toContainText('10000');

  // Corrected, the field no longer shows the server's message.
  await rate.fill('10');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(rate).not.toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'webhook-new-policies');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(page.getByRole('heading', { name: 'Webhook created' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to the webhook' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `${env.receiver}/ok/${ns}` })).toBeVisible();
  await expect(page.getByTestId('retry-schedule')).toHaveText('5s, 5m, 30m, 2h');
  await expect(page.getByTestId('rate-limit')).toHaveText('10 req/s');
  await expect(page.getByText('up to 5 attempts per delivery')).toBeVisible();
  await expect(page.getByTestId('pace')).toHaveText('0 req/s of 10 req/s over the last minute');

  // Deliveries move the pace, read from the last minute of the health.
  for (let i = 0; i < 6; i++) await call('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { shipment: i } });
  await expect(page.getByTestId('pace')).toHaveText(/^0\.\d+ req\/s of 10 req\/s over the last minute$/, { timeout: 30_000 });
  await shot(page, 'webhook-policies');

  // Back to the default backoff, and no limit.
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await expect(schedule).toHaveValue('5s, 5m, 30m, 2h');
  await expect(rate).toHaveValue('10');
  await schedule.fill('');
  await expect(page.getByLabel('Attempts', { exact: true })).toHaveValue('8');
  await rate.fill('0');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('retry-schedule')).toHaveText('default backoff');
  await expect(page.getByTestId('rate-limit')).toHaveText('none');
  await expect(page.getByText('up to 8 attempts per delivery')).toBeVisible();
  await expect(page.getByTestId('pace')).toHaveText(/^[\d.]+ req\/s over the last minute$/);

  // A schedule of its own again, with the attempts typed rather than followed.
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await page.getByLabel('Attempts', { exact: true }).fill('3');
  await schedule.fill('1m 1h');
  await expect(page.getByLabel('Attempts', { exact: true })).toHaveValue('3');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('retry-schedule')).toHaveText('1m, 1h');
  await expect(page.getByText('up to 3 attempts per delivery')).toBeVisible();
});

test('a delivery waiting for its ordering key links to the one it waits for', async ({ page, ns }) => {
  const type = unique('account.changed');
  const key = unique('acct');
  await call('webhook.EventService/RegisterEvent', { name: type });
  const wh = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/ok/${ns}`,
    events: [type],
  });
  // Paused, the webhook holds the first delivery of the key: the second waits for it.
  await call('webhook.WebhookService/PauseWebhook', { namespace: ns, webhookId: wh.webhookId });
  const first = await call<{ eventId: string }>('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { n: 1 }, orderingKey: key });
  let before: Delivery | undefined;
  await expect(async () => {
    before = (await deliveriesOf(ns, wh.webhookId)).find((d) => d.eventId === first.eventId);
    expect(before).toBeDefined();
  }).toPass();

  // The second event, sent through the form with the same key.
  await signIn(page, ns);
  await page.goto(`${env.ui}#/${ns}/events/new?type=${type}`);
  await expect(page.getByLabel('Event type')).toHaveValue(type);
  await page.getByLabel('Payload (JSON object)').fill('{"n": 2}');
  await page.getByLabel(/^Ordering key/).fill(key);
  await page.getByRole('button', { name: 'Send event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: type })).toBeVisible();
  await expect(page.getByTestId('event-ordering-key')).toHaveText(key);

  // Its delivery waits for the first one's, and says so with a link.
  const table = page.getByRole('table', { name: 'Deliveries of this event' });
  const marker = table.getByTestId('waits-for');
  await expect(marker).toContainText('waiting for its key');
  await expect(marker.getByRole('link', { name: `Waits for delivery ${before!.id}` })).toBeVisible();
  await expect(table.getByTestId('ordering-key')).toHaveText(`key ${key}`);
  await shot(page, 'event-waiting-for-key');

  // The deliveries list shows it too.
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  const list = page.getByRole('table', { name: 'Deliveries' });
  await expect(list.locator('tbody tr')).toHaveCount(2);
  await expect(list.getByTestId('ordering-key')).toHaveCount(2);
  await expect(list.getByTestId('waits-for')).toHaveCount(1);
  await expect(list.locator(`tr[data-delivery="${before!.id}"]`).getByTestId('waits-for')).toHaveCount(0);
  await shot(page, 'deliveries-waiting-for-key');
  await page.setViewportSize(phone);
  await expectFits(page, 'the deliveries page, a delivery waiting for its key');
  await shot(page, 'phone-deliveries-waiting-for-key');
  await page.setViewportSize({ width: 1280, height: 900 });

  // The waiting delivery's page, then the link to the one before it.
  const waiting = list.locator('tr', { has: page.getByTestId('waits-for') });
  await waiting.getByRole('link', { name: /^Delivery dlv_/ }).click();
  await expect(page.getByTestId('waiting-for-key')).toHaveText('waiting for its key');
  await expect(page.getByTestId('ordering-key')).toHaveText(key);
  const note = page.getByTestId('waits-for');
  await expect(note).toContainText('Waiting for its key');
  await shot(page, 'delivery-waiting-for-key');
  await note.getByRole('link', { name: before!.id }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Delivery of ${type}` })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/deliveries/${before!.id}$`));
  await expect(page.getByTestId('ordering-key')).toHaveText(key);
  await expect(page.getByTestId('waiting-for-key')).toHaveCount(0);

  // Resumed, the webhook takes the first, then the second: no one waits.
  await call('webhook.WebhookService/ResumeWebhook', { namespace: ns, webhookId: wh.webhookId });
  await expect(page.getByTestId('delivery-status')).toHaveText('succeeded');
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  await expect(list.getByText('succeeded')).toHaveCount(2);
  await expect(list.getByTestId('waits-for')).toHaveCount(0);
});
