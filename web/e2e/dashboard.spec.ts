import { adminKey, scopedKey, scopedNamespace } from './keys';
import { call, env, expect, expectFits, phone, shot, signIn, test, unique } from './fixtures';

test('register an event type, create a webhook, send a test event and watch it delivered', async ({ page, ns }) => {
  const type = unique('order.created');
  await signIn(page, ns);
  await expect(page.getByRole('heading', { name: `No webhooks in ${ns} yet` })).toBeVisible();
  await shot(page, 'overview-empty');

  // Register the event type.
  await page.getByRole('link', { name: 'Event types', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill(type);
  await page.getByLabel(/Description/).fill('Fires when an order is placed');
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByRole('status')).toHaveText(`Registered ${type}.`);
  await expect(page.getByRole('cell', { name: type, exact: true })).toBeVisible();
  await shot(page, 'event-types');

  // Create a webhook through the form, keyboard-style labels and all.
  await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
  await expect(page.getByRole('heading', { name: `No webhooks in ${ns} yet` })).toBeVisible();
  await page.getByRole('link', { name: 'New webhook' }).click();
  await page.getByLabel('Endpoint URL').fill(`${env.receiver}/ok/${ns}`);
  await page.getByLabel(/^Description/).fill('Order service');
  await page.getByRole('checkbox', { name: type }).check();
  await page.getByRole('textbox', { name: 'Header name 1' }).fill('Authorization');
  await page.getByRole('textbox', { name: 'Header value 1' }).fill('Bearer very-secret');
  await page.getByLabel('Attempts', { exact: true }).fill('5');
  await shot(page, 'webhook-new');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await expect(page.getByRole('heading', { name: 'Webhook created' })).toBeVisible();
  await expect(page.getByTestId('signing-secret')).toHaveText(/^whsec_/);
  await expect(page.getByRole('button', { name: 'Copy signing secret' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to the webhook' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `${env.receiver}/ok/${ns}` })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Custom headers' })).toContainText('********');
  await expect(page.getByRole('table', { name: 'Custom headers' })).not.toContainText('very-secret');

  // Send a test event through the form.
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await expect(page.getByRole('heading', { name: `No events in ${ns} yet` })).toBeVisible();
  await shot(page, 'events-empty');
  await page.getByRole('link', { name: 'Send a test event' }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Send a test event' })).toBeVisible();
  await page.getByLabel('Event type').selectOption(type);
  await page.getByLabel('Payload (JSON object)').fill('{"order_id": "ord_1", "total": 49.99}');
  await page.getByRole('button', { name: 'Send event' }).click();
  // Asked first, with how many subscriptions it reaches.
  await expect(page.getByRole('dialog')).toContainText('1 subscription');
  await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();

  // The event's page shows its delivery, which turns succeeded by itself.
  await expect(page.getByRole('heading', { level: 1, name: type })).toBeVisible();
  const deliveries = page.getByRole('table', { name: 'Deliveries of this event' });
  await expect(deliveries.getByText('succeeded')).toBeVisible();
  await shot(page, 'event');
  await deliveries.getByRole('link', { name: /^Delivery dlv_/ }).click();
  await expect(page.getByTestId('delivery-status')).toHaveText('succeeded');
  const attempt = page.locator('[data-attempt="1"]');
  await expect(attempt).toContainText('HTTP 200');
  await attempt.getByText('Request headers').click();
  const sent = page.getByRole('table', { name: 'Request headers of attempt 1' });
  await expect(sent).toContainText('Webhook-Signature');
  await expect(sent).not.toContainText('very-secret');
  await expect(page.getByRole('group', { name: 'Request body' })).toContainText('"order_id": "ord_1"');
  await shot(page, 'delivery');

  // The lists and the overview show it too.
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await expect(page.getByRole('table', { name: 'Events' }).getByRole('cell', { name: type, exact: true })).toBeVisible();
  await shot(page, 'events');
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  await expect(page.getByRole('table', { name: 'Deliveries' }).getByText('succeeded')).toBeVisible();
  await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
  await expect(page.getByRole('row', { name: /Order service/ }).getByText('healthy')).toBeVisible();
  await shot(page, 'webhooks');
  await page.getByRole('link', { name: 'Overview', exact: true }).click();
  await expect(page.getByText('1 of 1 attempts')).toBeVisible();
  await shot(page, 'overview');
});

test('every main page fits a phone\'s width', async ({ page, ns }) => {
  // Long names, URLs and labels, as real ones can be, and a receiver that
  // fails: what makes a page too wide if anything does.
  const type = unique('customer.subscription.trial_will_end');
  await call('webhook.EventService/RegisterEvent', { name: type, description: 'Three days before a customer\'s free trial ends' });
  const good = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/ok/${ns}/hooks/subscriptions/trial-ending?source=sparrow&team=billing-notifications`,
    events: [type],
    description: 'Billing notifications: reminders before a trial ends, sent by email and in the app',
    headers: { Authorization: 'Bearer a-rather-long-token-0123456789abcdef0123456789abcdef' },
  });
  await call('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/fail/${ns}-ledger`,
    events: [type],
    description: 'Ledger (broken)',
    maxAttempts: 2,
  });
  const ev = await call<{ eventId: string }>('webhook.EventService/PushEvent', {
    namespace: ns,
    event: type,
    labels: { tenant: 'acme-corporation-international', plan: 'enterprise-annual' },
    payload: { customer_id: 'cus_0123456789abcdefghij', note: 'x'.repeat(300), trial_ends_at: '2026-12-24T00:00:00Z' },
  });

  await page.setViewportSize(phone);
  await signIn(page, ns);
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  const list = page.getByRole('table', { name: 'Deliveries' });
  await expect(list.getByText('succeeded')).toBeVisible();
  await expect(list.getByText(/retrying|failed/)).toBeVisible();
  await onPhone('deliveries');
  await list.locator('tr', { hasText: 'ledger' }).getByRole('link', { name: /^Delivery dlv_/ }).click();
  await expect(page.getByTestId('delivery-status')).toHaveText(/retrying|failed/);
  await page.locator('[data-attempt="1"]').getByText('Request headers').click();
  await onPhone('delivery');

  await page.getByRole('link', { name: 'Events', exact: true }).click();
  // Sparrow's own events (the ledger's change of health) are hidden by default (pages.spec.ts shows them).
  await expect(page.locator(`tr[data-event="${ev.eventId}"]`)).toBeVisible();
  await onPhone('events');
  await page.getByRole('link', { name: `Event ${ev.eventId}` }).click();
  await expect(page.getByRole('table', { name: 'Deliveries of this event' }).locator('tbody tr')).toHaveCount(2);
  await onPhone('event');

  await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
  await expect(page.getByText('Billing notifications', { exact: false })).toBeVisible();
  await onPhone('webhooks');
  await page.goto(`${env.ui}#/${ns}/webhooks/${good.webhookId}`);
  await expect(page.getByTestId('webhook-state')).toHaveText('active');
  await expect(page.getByRole('table', { name: 'Recent deliveries' }).getByText('succeeded')).toBeVisible();
  await onPhone('webhook');

  await page.getByRole('link', { name: 'Event types', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Event types' })).toBeVisible();
  await expect(page.getByRole('cell', { name: type, exact: true })).toBeVisible();
  await onPhone('event-types');

  await page.getByRole('link', { name: 'Overview', exact: true }).click();
  await expect(page.getByText(/of \d+ attempts/)).toBeVisible();
  await onPhone('overview');

  async function onPhone(name: string) {
    await shot(page, `phone-${name}`);
    await expectFits(page, `the ${name} page`);
  }
});

test('a failing receiver: a retrying delivery, its attempts, and Retry', async ({ page, ns }) => {
  const type = unique('invoice.finalized');
  const target = unique('billing');
  await call('webhook.EventService/RegisterEvent', { name: type });
  const broken = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/switch/${target}`,
    events: [type],
    description: 'Billing',
    maxAttempts: 2,
    // Time for the checks on the retrying delivery, however busy the machine.
    retrySchedule: ['15s'],
  });
  await call('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}`, events: [type], description: 'Archive' });
  const pushed = await call<{ eventId: string }>('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { invoice: 'inv_1' } });

  await signIn(page, ns);
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  const list = page.getByRole('table', { name: 'Deliveries' });
  // The list updates by itself: the first attempt fails, a retry is scheduled.
  await expect(list.getByText('retrying')).toBeVisible();
  await expect(list.getByText('succeeded')).toBeVisible();
  await shot(page, 'deliveries');
  // On a laptop's screen too, the list needs no sideways scrolling.
  await expectFits(page, 'the deliveries page');

  // Filter by status and webhook, through the URL the form writes.
  await page.getByLabel('Status', { exact: true }).selectOption('retrying');
  await page.getByRole('combobox', { name: 'Webhook' }).fill(`switch/${target}`);
  await page.getByRole('option', { name: new RegExp(`switch/${target}`) }).click();
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=retrying/);
  await expect(list.getByRole('row')).toHaveCount(2);
  await list.getByRole('link', { name: /^Delivery dlv_/ }).click();

  await expect(page.getByTestId('delivery-status')).toHaveText('retrying');
  const first = page.locator('[data-attempt="1"]');
  await expect(first).toContainText('HTTP 500');
  await expect(first).toContainText('Next attempt scheduled');
  // The receiver's HTML answer is shown as text, not run.
  await expect(first.getByRole('group', { name: 'Response body' })).toContainText('<script>window.__pwned = "response"</script>');
  // A retrying delivery can be tried now rather than at its next attempt; not just Retried.
  await expect(page.getByRole('button', { name: 'Retry now' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Retry', exact: true })).toHaveCount(0);
  await shot(page, 'delivery-retrying');

  // The second attempt (15s after the first) uses the last one up.
  await expect(page.getByTestId('delivery-status')).toHaveText('failed', { timeout: 30_000 });
  await expect(page.locator('[data-attempt="2"]')).toContainText('HTTP 500');
  await shot(page, 'delivery-failed');

  // Mend the receiver, then Retry: a fresh run succeeds.
  await fetch(`${env.receiver}/control/${target}`, { method: 'POST' });
  await page.getByRole('button', { name: 'Retry', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Retry now' }).click();
  // The notice lasts until the new attempt is recorded (pages.spec.ts looks closer).
  await expect(page.getByTestId('delivery-status')).toHaveText('succeeded');
  await expect(page.locator('[data-attempt="3"]')).toContainText('HTTP 200');
  await expect(page.getByRole('status').filter({ hasText: 'Scheduled again' })).toHaveCount(0);
  expect(await page.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();

  // The event's page lists both of its deliveries.
  await page.getByRole('link', { name: pushed.eventId }).click();
  await expect(page.getByRole('table', { name: 'Deliveries of this event' }).getByRole('row')).toHaveCount(3);
});

test('pause and resume change the state shown', async ({ page, ns }) => {
  const type = unique('customer.created');
  await call('webhook.EventService/RegisterEvent', { name: type });
  const wh = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/ok/${ns}`,
    events: [type],
  });
  await signIn(page, ns);
  await page.goto(`${env.ui}#/${ns}/webhooks/${wh.webhookId}`);
  const state = page.getByTestId('webhook-state');
  await expect(state).toHaveText('active');
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Pause' }).click();
  await expect(state).toHaveText('paused');
  await expect(page.getByText(/^Paused: deliveries wait/)).toBeVisible();
  await shot(page, 'webhook-paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Resume' }).click();
  await expect(state).toHaveText('active');
  await expect(page.getByText(/^Paused: deliveries wait/)).toHaveCount(0);
  await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
  await expect(page.getByRole('row', { name: new RegExp(`/ok/${ns}`) }).getByText('active')).toBeVisible();
});

test('a wrong API key gets the login message; signing out asks again', async ({ page, ns }) => {
  await page.goto(`${env.ui}#/${ns}`);
  await expect(page.getByRole('heading', { name: 'Sparrow' })).toBeVisible();
  await page.getByLabel('API key').fill('not-the-key-0123456789');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('That API key was not accepted. Check it and try again.');
  await expect(page.getByLabel('API key')).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'login-refused');

  await page.getByLabel('API key').fill(adminKey);
  await page.getByLabel('API key').press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  // The key lives in this tab's session storage, nowhere else.
  expect(await page.evaluate(() => [sessionStorage.getItem('sparrow.apiKey'), document.cookie, JSON.stringify(localStorage).includes('key-0123')])).toEqual([adminKey, '', false]);
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByText('Signed out.')).toBeVisible();
  await expect(page.getByLabel('API key')).toBeVisible();
});

test('a key limited to namespaces sees only those', async ({ page }) => {
  await signIn(page, scopedNamespace, scopedKey);
  // The picker offers no other namespace (namespaces.spec.ts); the address can name one.
  await page.goto(`${env.ui}#/somebody-else`);
  await expect(page.getByRole('alert')).toContainText('Your API key may not do this.');
  await expect(page.getByRole('alert')).toContainText('may not use namespace "somebody-else"');
  await shot(page, 'permission-denied');
  // Registering an event type changes every namespace: not for this key.
  await page.goto(`${env.ui}#/${scopedNamespace}/event-types`);
  await expect(page.getByRole('heading', { level: 1, name: 'Event types' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Register' })).toHaveCount(0);
});

test('payloads render as text, never as HTML', async ({ page, ns }) => {
  const type = unique('comment.posted');
  await call('webhook.EventService/RegisterEvent', { name: type });
  await call('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}`, events: [type] });
  await signIn(page, ns);
  await page.goto(`${env.ui}#/${ns}/events/new?type=${type}`);
  await expect(page.getByLabel('Event type')).toHaveValue(type);
  const evil = '<script>window.__pwned = "payload"</script><img src=x onerror="window.__pwned = \'img\'">';
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
  await page.getByLabel('Payload (JSON object)').fill(JSON.stringify({ comment: evil, lines }));
  await page.getByRole('button', { name: 'Send event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: type })).toBeVisible();
  await expect(page.getByRole('group', { name: 'Payload' })).toContainText(evil.replace(/"/g, '\\"'));
  // A large payload is collapsed until asked for.
  const payload = page.getByRole('group', { name: 'Payload' });
  await expect(payload).not.toContainText('line 199');
  await payload.getByRole('button', { name: /^Show all/ }).click();
  await expect(payload).toContainText('line 199');
  await expect(payload.getByRole('button', { name: 'Collapse' })).toHaveAttribute('aria-expanded', 'true');
  const deliveries = page.getByRole('table', { name: 'Deliveries of this event' });
  await expect(deliveries.getByText('succeeded')).toBeVisible();
  await deliveries.getByRole('link', { name: /^Delivery dlv_/ }).click();
  await expect(page.getByRole('group', { name: 'Request body' })).toContainText('<script>window.__pwned');
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
});

test('the template editor previews and validates on save', async ({ page, ns }) => {
  const type = unique('order.paid');
  await call('webhook.EventService/RegisterEvent', { name: type });
  const wh = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}`, events: [type] });
  await call('webhook.EventService/PushEvent', { namespace: ns, event: type, payload: { order_id: 'ord_42', customer: { name: 'Ada' } } });
  await signIn(page, ns);
  await page.goto(`${env.ui}#/${ns}/webhooks/${wh.webhookId}`);
  await page.getByRole('link', { name: `Edit the ${type} subscription` }).click();
  // The sample is the latest event of the type.
  await expect(page.getByRole('textbox', { name: 'Sample payload' })).toHaveValue(/ord_42/);
  await page.getByRole('textbox', { name: 'Payload template' }).fill('{"text": {{json .customer.name}}, "order": {{json .order_id}}}');
  await expect(page.getByRole('group', { name: 'Body a delivery would send' })).toContainText('"text": "Ada"');
  await shot(page, 'subscription-template');
  await page.getByRole('textbox', { name: 'Payload template' }).fill('{"text": {{.customer.name}');
  await page.getByRole('button', { name: 'Save subscription' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not saved' })).toBeVisible();
  await page.getByRole('textbox', { name: 'Payload template' }).fill('{"order": {{json .order_id}}}');
  await page.getByRole('button', { name: 'Save subscription' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the webhook' }).click();
  await expect(page.getByRole('table', { name: 'Subscriptions' }).getByRole('cell', { name: 'yes' })).toBeVisible();
  await shot(page, 'webhook');
});

test('a tour of a busy namespace', async ({ page }) => {
  // Realistic names for the screenshot in the README (docs/): each run has
  // a database of its own, and only this test uses them.
  const ns = 'acme';
  for (const [name, description] of [
    ['order.created', 'A customer placed an order'],
    ['order.paid', 'An order was paid'],
    ['invoice.finalized', 'An invoice was finalized'],
    ['customer.created', 'A customer signed up'],
  ]) {
    await call('webhook.EventService/RegisterEvent', { name, description });
  }
  const hook = (path: string, events: string[], description: string, extra = {}) =>
    call('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/${path}`, events, description, ...extra });
  await hook('ok/fulfilment', ['order.created', 'order.paid'], 'Fulfilment service');
  await hook('ok/crm', ['customer.created', 'order.created'], 'CRM sync');
  await hook('fail/ledger', ['invoice.finalized', 'order.paid'], 'Ledger (broken)', { maxAttempts: 3 });
  const push = (event: string, payload: object) => call('webhook.EventService/PushEvent', { namespace: ns, event, payload });
  for (let i = 1; i <= 4; i++) {
    await push('customer.created', { customer_id: `cus_${i}`, email: `customer${i}@example.com` });
    await push('order.created', { order_id: `ord_${i}`, customer_id: `cus_${i}`, total: 19.99 * i });
    await push('order.paid', { order_id: `ord_${i}`, amount: 19.99 * i });
    if (i % 2 === 0) await push('invoice.finalized', { invoice_id: `inv_${i}`, order_id: `ord_${i}` });
  }
  await signIn(page, ns);
  await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
  const list = page.getByRole('table', { name: 'Deliveries' });
  // 4 customers to the CRM; 4 orders to fulfilment and the CRM; 4 payments
  // to fulfilment and the ledger; 2 invoices to the ledger.
  await expect(list.locator('tbody tr')).toHaveCount(22);
  await expect(list.getByText('pending')).toHaveCount(0);
  await page.locator('summary', { hasText: 'Filters' }).click();
  await shot(page, 'docs-deliveries', false);
  await page.getByRole('link', { name: 'Overview', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Webhooks faring worst' })).toBeVisible();
  await expect(page.getByRole('link', { name: `${env.receiver.replace('http://', '')}/fail/ledger` })).toBeVisible();
  await shot(page, 'docs-overview', false);
});


test('manage a webhook: edit, rotate, subscriptions, retry failed, push again, delete', async ({ page, ns }) => {
  const first = unique('ticket.opened');
  const second = unique('ticket.closed');
  const target = unique('helpdesk');
  await call('webhook.EventService/RegisterEvent', { name: first });
  await call('webhook.EventService/RegisterEvent', { name: second });
  const wh = await call<{ webhookId: string }>('webhook.WebhookService/RegisterWebhook', {
    namespace: ns,
    url: `${env.receiver}/switch/${target}`,
    events: [first],
    maxAttempts: 1,
  });
  const ev = await call<{ eventId: string }>('webhook.EventService/PushEvent', { namespace: ns, event: first, payload: { ticket: 'T-1' } });
  await signIn(page, ns);
  await page.goto(`${env.ui}#/${ns}/webhooks/${wh.webhookId}`);
  const recent = page.getByRole('table', { name: 'Recent deliveries' });
  await expect(recent.getByText('failed')).toBeVisible();

  // Edit.
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await expect(page.getByLabel('Endpoint URL')).toHaveValue(`${env.receiver}/switch/${target}`);
  await page.getByLabel(/^Description/).fill('Helpdesk');
  await page.getByLabel('Attempts', { exact: true }).fill('3');
  await page.getByRole('checkbox', { name: second }).check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('up to 3 attempts per delivery')).toBeVisible();
  await expect(page.getByText(/^Helpdesk ·/)).toBeVisible();
  const subs = page.getByRole('table', { name: 'Subscriptions' });
  await expect(subs.getByRole('cell', { name: second, exact: true })).toBeVisible();

  // A bad edit is refused, next to the field.
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await page.getByLabel('Timeout (seconds)').fill('600');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByLabel('Timeout (seconds)')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('alert')).toContainText('timeout');
  await page.getByRole('link', { name: 'Cancel' }).click();

  // Rotate the secret.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
  await expect(page.getByRole('heading', { name: 'New signing secret' })).toBeVisible();
  await expect(page.getByTestId('signing-secret')).toHaveText(/^whsec_/);
  const rotated = await page.getByTestId('signing-secret').textContent();
  await page.reload();
  await page.getByRole('button', { name: 'Reveal secret' }).click();
  await expect(page.getByTestId('signing-secret')).toHaveText(rotated!);
  await page.getByRole('button', { name: 'Hide' }).click();
  await expect(page.getByTestId('signing-secret')).toHaveCount(0);

  // Remove a subscription, then add it back.
  await page.getByRole('button', { name: `Remove the ${second} subscription` }).click();
  await expect(page.getByRole('dialog')).toContainText(second);
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await expect(subs.getByRole('cell', { name: second, exact: true })).toHaveCount(0);
  await page.getByLabel('Subscribe to').selectOption(second);
  await page.getByRole('button', { name: 'Add subscription' }).click();
  await expect(subs.getByRole('cell', { name: second, exact: true })).toBeVisible();

  // Mend the receiver and retry what failed.
  await fetch(`${env.receiver}/control/${target}`, { method: 'POST' });
  await page.getByRole('button', { name: 'Retry failed' }).click();
  await expect(page.getByRole('dialog')).toContainText('This will send 1 delivery again');
  await page.getByRole('dialog').getByRole('button', { name: 'Send 1 delivery again' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'scheduled again' })).toHaveText('1 delivery scheduled again.');
  await expect(recent.getByText('succeeded')).toBeVisible();

  // Push the event again: a new delivery.
  await page.goto(`${env.ui}#/${ns}/events/${ev.eventId}`);
  await page.getByRole('button', { name: 'Push again' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Push again' }).click();
  const deliveries = page.getByRole('table', { name: 'Deliveries of this event' });
  await expect(deliveries.locator('tbody tr')).toHaveCount(2);
  await expect(deliveries.getByText('succeeded')).toHaveCount(2);

  // Delete, after confirming.
  await page.goto(`${env.ui}#/${ns}/webhooks/${wh.webhookId}`);
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
  await expect(page.getByRole('heading', { name: `No webhooks in ${ns} yet` })).toBeVisible();
});

test('an event type with a schema refuses payloads that break it', async ({ page, ns }) => {
  const type = unique('order.refunded');
  await signIn(page, ns);
  await page.getByRole('link', { name: 'Event types', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill(type);
  await page.getByText('Payload schema').click();
  await page.getByLabel('JSON Schema the payloads must satisfy').fill('{"type": "object", "required": ["order_id"]}');
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByRole('status')).toHaveText(`Registered ${type}.`);
  await page.getByRole('link', { name: type, exact: true }).click();
  await expect(page.getByLabel(/^Payload schema/)).toHaveValue(/"required"/);
  await shot(page, 'event-type');

  await page.getByRole('link', { name: 'Send a test event' }).click();
  await expect(page.getByLabel('Event type')).toHaveValue(type);
  await page.getByLabel('Payload (JSON object)').fill('{"amount": 5}');
  await page.getByRole('button', { name: 'Send event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await expect(page.getByLabel('Payload (JSON object)')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('alert')).toContainText('order_id');
  await page.getByLabel('Payload (JSON object)').fill('{"order_id": "ord_9", "amount": 5}');
  await page.getByRole('button', { name: 'Send event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: type })).toBeVisible();
});

test("Sparrow's own event types can be neither sent nor deactivated", async ({ page, ns }) => {
  await signIn(page, ns);
  await page.getByRole('link', { name: 'Event types', exact: true }).click();
  const row = page.getByRole('row', { name: /sparrow\.webhook\.disabled/ });
  await expect(row).toContainText("Sparrow's own");
  await expect(row.getByRole('button', { name: /Deactivate/ })).toHaveCount(0);
  await expect(row.getByRole('link', { name: /Send/ })).toHaveCount(0);

  await row.getByRole('link', { name: /sparrow\.webhook\.disabled/ }).click();
  await expect(page.getByText("One of Sparrow's own event types")).toBeVisible();
  await expect(page.getByRole('link', { name: 'Send a test event' })).toHaveCount(0);
  await expect(page.getByRole('checkbox', { name: /Active/ })).toHaveCount(0);

  await page.goto(`${env.ui}#/${ns}/events/new?type=sparrow.webhook.disabled`);
  await expect(page.getByRole('option', { name: /^sparrow\./ })).toHaveCount(0);

  // The API refuses such a push whatever sends it.
  await expect(call('/webhook.EventService/PushEvent', { namespace: ns, event: 'sparrow.webhook.disabled', payload: {} })).rejects.toThrow(
    /403.*permission_denied/,
  );
});
