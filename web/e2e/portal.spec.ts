// Tenant portals: the dashboard opened at #token=<portal token> shows the
// token's namespace only, with what the token allows, until it expires.
// Each test runs at a desktop's width and a small phone's.
import { call, env, expect, expectFits, shot, test, unique } from './fixtures';
import { asPortal, portalToken, seed, signToken, smallPhone } from './shell';

for (const [width, viewport] of [
  ['desktop', undefined],
  ['phone', smallPhone],
] as const) {
  test.describe(width, () => {
    if (viewport) test.use({ viewport });

    test('a read-only portal link sees its namespace, and nothing it may not do', async ({ page, ns }) => {
      const s = await seed(ns);
      const other = unique('e2e-not-mine');
      const theirs = await seed(other, s.type);
      const token = await portalToken(ns);

      await page.goto(`${env.ui}#token=${token}`);
      await expect(page).toHaveURL(new RegExp(`#/${ns}$`));
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
      // Out of the address bar and the history; kept for this tab only.
      expect(page.url()).not.toContain('token');
      expect(await page.evaluate(() => [sessionStorage.getItem('sparrow.portalToken'), localStorage.getItem('sparrow.namespaces')])).toEqual([token, null]);
      await expect(page.getByTestId('portal-banner')).toHaveText(new RegExp(`^Portal for ${ns} · read only · expires \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`));
      await expect(page.getByRole('button', { name: /^Namespace/ })).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
      await shot(page, `${width}-portal-overview`, false);
      if (viewport) await expectFits(page, 'the portal overview');

      // Everything can be read; nothing can be changed.
      await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
      await expect(page.getByRole('table', { name: 'Webhooks' })).toContainText(s.url);
      await expect(page.getByRole('link', { name: 'New webhook' })).toHaveCount(0);
      await page.goto(`${env.ui}#/${ns}/webhooks/${s.webhookId}`);
      await expect(page.getByTestId('webhook-state')).toHaveText('active');
      await expect(page.getByRole('table', { name: 'Subscriptions' })).toBeVisible();
      for (const name of ['Edit', 'Pause', 'Reveal secret', 'Rotate secret', 'Delete', 'Add subscription', 'Send test event', 'Retry failed', 'Recover…']) {
        await expect(page.getByRole('button', { name, exact: true }).or(page.getByRole('link', { name, exact: true }))).toHaveCount(0);
      }
      await expect(page.getByRole('link', { name: `Edit the ${s.type} subscription` })).toHaveCount(0);
      await page.goto(`${env.ui}#/${ns}/events/${s.eventId}`);
      await expect(page.getByRole('heading', { level: 1, name: s.type })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Push again' })).toHaveCount(0);
      await page.goto(`${env.ui}#/${ns}/deliveries/${s.deliveryId}`);
      await expect(page.getByTestId('delivery-status')).toBeVisible();
      await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);
      await page.getByRole('link', { name: 'Events', exact: true }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Events' })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Send a test event' })).toHaveCount(0);
      await page.getByRole('link', { name: 'Event types', exact: true }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Event types' })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Register' })).toHaveCount(0);
      // Nor do the forms open by their address.
      await page.goto(`${env.ui}#/${ns}/webhooks/new`);
      await expect(page.getByRole('status')).toHaveText('This sign-in may see webhooks but not create them.');
      await expect(page.getByRole('button', { name: 'Create webhook' })).toHaveCount(0);
      await page.goto(`${env.ui}#/${ns}/events/new`);
      await expect(page.getByRole('status')).toHaveText('This sign-in may not send events.');
      await expect(page.getByRole('button', { name: 'Send event' })).toHaveCount(0);

      // The search box looks in its namespace only.
      const search = page.getByRole('searchbox', { name: 'Find by id' });
      await search.fill(theirs.webhookId);
      await search.press('Enter');
      await expect(page.getByRole('alert')).toHaveText(`No webhook ${theirs.webhookId} in ${ns}.`);
      await search.fill(s.webhookId);
      await search.press('Enter');
      await expect(page).toHaveURL(new RegExp(`#/${ns}/webhooks/${s.webhookId}$`));

      // Another namespace, by the address: why not, and no data.
      await page.goto(`${env.ui}#/${other}/webhooks`);
      await expect(page.getByRole('alert')).toContainText('This link may not do this.');
      await expect(page.getByRole('alert')).toContainText(`It opens namespace “${ns}” only`);
      await expect(page.getByRole('heading', { level: 1, name: 'Webhooks' })).toHaveCount(0);
      await expect(page.getByRole('main')).not.toContainText(theirs.url);
      await shot(page, `${width}-portal-other-namespace`, false);
      await page.reload();
      await expect(page.getByTestId('portal-banner')).toBeVisible();
      await page.getByRole('link', { name: `Go to ${ns}` }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();

      // The API itself refuses the token what the page hides.
      expect(await asPortal(token, 'webhook.WebhookService/ListWebhooks', { namespace: ns })).toEqual({ status: 200, code: undefined });
      expect(await asPortal(token, 'webhook.WebhookService/ListWebhooks', { namespace: other })).toMatchObject({ status: 403 });
      expect(await asPortal(token, 'webhook.WebhookService/PauseWebhook', { namespace: ns, webhookId: s.webhookId })).toMatchObject({ status: 403 });
      expect(await asPortal(token, 'webhook.EventService/PushEvent', { namespace: ns, event: s.type, payload: {} })).toMatchObject({ status: 403 });
      expect(await asPortal(token, 'webhook.WebhookService/RegisterWebhook', { namespace: ns, url: s.url, events: [s.type] })).toMatchObject({ status: 403 });
    });

    test('a portal link that manages webhooks may pause one, but pushes no events', async ({ page, ns }) => {
      const s = await seed(ns);
      const token = await portalToken(ns, ['read', 'manage_webhooks']);
      await page.goto(`${env.ui}#token=${token}`);
      await expect(page.getByTestId('portal-banner')).toContainText(`Portal for ${ns} · manage webhooks · expires`);
      await page.goto(`${env.ui}#/${ns}/webhooks/${s.webhookId}`);
      const state = page.getByTestId('webhook-state');
      await expect(state).toHaveText('active');
      // Each asks first (ConfirmDialog).
      for (const [action, after] of [
        ['Pause', 'paused'],
        ['Resume', 'active'],
      ]) {
        await page.getByRole('button', { name: action, exact: true }).click();
        await page.getByRole('dialog', { name: `${action} this webhook?` }).getByRole('button', { name: action, exact: true }).click();
        await expect(state).toHaveText(after);
      }
      await expect(page.getByRole('link', { name: 'Edit', exact: true })).toBeVisible();
      await page.goto(`${env.ui}#/${ns}/events/${s.eventId}`);
      await expect(page.getByRole('heading', { level: 1, name: s.type })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Push again' })).toHaveCount(0);
      await page.goto(`${env.ui}#/${ns}/webhooks`);
      await expect(page.getByRole('link', { name: 'New webhook' })).toBeVisible();
    });

    test('an expired link says so, and asks for no API key', async ({ page, ns }) => {
      const now = Math.floor(Date.now() / 1000);
      await page.goto(`${env.ui}#token=${signToken(ns, now - 60)}`);
      await expect(page.getByRole('alert')).toHaveText(/This link has expired\.\s*Ask whoever gave you the link for a new one\./);
      await expect(page.getByLabel('API key')).toHaveCount(0);
      expect(page.url()).not.toContain('token');
      await shot(page, `${width}-portal-expired`, false);
      // Reloading the tab explains again.
      await page.reload();
      await expect(page.getByRole('alert')).toContainText('This link has expired.');

      // A token not signed by this server doesn't work either.
      await page.goto('about:blank');
      await page.goto(`${env.ui}#token=${signToken(ns, now + 3600)}x`);
      await expect(page.getByRole('alert')).toContainText('This link does not work.');
      await expect(page.getByRole('alert')).toContainText('invalid portal token');
      await expect(page.getByLabel('API key')).toHaveCount(0);
    });

    test('a portal link stops working when it expires', async ({ page, ns }) => {
      // The server checks the expiry against its own clock: a token of a
      // few seconds, made here, rather than the shortest it issues (60 s).
      const exp = Math.floor(Date.now() / 1000) + 12;
      await page.goto(`${env.ui}#token=${signToken(ns, exp)}`);
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
      await expect(page.getByTestId('portal-banner')).toContainText(`Portal for ${ns} · read only`);
      await page.waitForTimeout(Math.max(0, exp * 1000 - Date.now()) + 1500);
      await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
      await expect(page.getByRole('alert')).toContainText('This link has expired.');
      await expect(page.getByTestId('portal-banner')).toHaveCount(0);
      await expect(page.getByLabel('API key')).toHaveCount(0);
    });
  });
}
