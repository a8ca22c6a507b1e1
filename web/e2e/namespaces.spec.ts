// The header: the namespace picker (namespaces from ListNamespaces, with
// what they hold), where the app opens, and the search box that finds any
// id. Each test runs at a desktop's width and a small phone's.
import { adminKey, scopedKey, scopedNamespace } from './keys';
import { call, env, expect, expectFits, shot, signIn, test, unique } from './fixtures';
import { seed, smallPhone } from './shell';

const absent = 'evt_01jd3k8q5v6w7x8y9zabcdefgh';

for (const [width, viewport] of [
  ['desktop', undefined],
  ['phone', smallPhone],
] as const) {
  test.describe(width, () => {
    if (viewport) test.use({ viewport });

    test('the picker lists namespaces with what they hold; a name not listed opens a new one', async ({ page, ns }) => {
      const other = unique('e2e-other');
      const first = await seed(ns);
      const type = first.type;
      await call('webhook.WebhookService/RegisterWebhook', { namespace: ns, url: `${env.receiver}/ok/${ns}-2`, events: [type] });
      await call('webhook.WebhookService/PauseWebhook', { namespace: ns, webhookId: first.webhookId });
      await call('webhook.WebhookService/RegisterWebhook', { namespace: other, url: `${env.receiver}/ok/${other}`, events: [type] });

      await signIn(page, ns);
      const picker = page.getByRole('button', { name: new RegExp(`^Namespace ${ns}`) });
      await picker.click();
      const list = page.getByRole('list', { name: 'Namespaces' });
      const here = list.getByRole('link', { name: new RegExp(`^${ns} `) });
      await expect(here).toContainText('2 webhooks (1 paused) · 2 subscriptions · last event');
      await expect(here).toHaveAttribute('aria-current', 'true');
      await expect(list.getByRole('link', { name: new RegExp(`^${other} `) })).toContainText('1 webhook · 1 subscription · no events yet');
      await shot(page, `${width}-namespace-picker`, false);
      if (viewport) await expectFits(page, 'the open namespace picker');

      // Typing filters the list; a click opens the namespace, in the same section.
      const box = page.getByRole('textbox', { name: 'Namespace' });
      await box.fill(other);
      await expect(list.getByRole('link')).toHaveCount(1);
      await list.getByRole('link', { name: new RegExp(`^${other} `) }).click();
      await expect(page).toHaveURL(new RegExp(`#/${other}$`));
      await expect(page.getByRole('list', { name: 'Namespaces' })).toHaveCount(0);

      // A name in use nowhere is a new namespace, and says so.
      const fresh = unique('e2e-fresh');
      await page.getByRole('button', { name: /^Namespace/ }).click();
      await box.fill(fresh);
      await expect(page.locator('#namespace-hint')).toHaveText(`“${fresh}” holds nothing yet: a new namespace. Press Enter to open it.`);
      await box.press('Enter');
      await expect(page).toHaveURL(new RegExp(`#/${fresh}$`));
      await expect(page.getByRole('heading', { name: `No webhooks in ${fresh} yet` })).toBeVisible();
      await page.getByRole('button', { name: /^Namespace/ }).click();
      await expect(list.getByRole('link', { name: new RegExp(`^${fresh} `) })).toContainText('new: nothing in it yet');

      // An id pasted in opens its page instead.
      await box.fill(`  ${first.eventId} `);
      await expect(page.locator('#namespace-hint')).toHaveText('An id: press Enter to find it.');
      await box.press('Enter');
      await expect(page).toHaveURL(new RegExp(`#/${ns}/events/${first.eventId}$`));
      await expect(page.getByRole('heading', { level: 1, name: type })).toBeVisible();

      // A name the API refuses is refused here too.
      await page.getByRole('button', { name: /^Namespace/ }).click();
      await box.fill('-nope');
      await box.press('Enter');
      await expect(page.getByRole('alert')).toContainText('Not a namespace name');
      await box.press('Escape');
      await expect(page.getByRole('list', { name: 'Namespaces' })).toHaveCount(0);
      await expect(page).toHaveURL(new RegExp(`#/${ns}/events/${first.eventId}$`));
    });

    test('the app opens on the namespace used last, else the first listed', async ({ page, ns }) => {
      await seed(ns);
      await page.goto(env.ui);
      await page.getByLabel('API key').fill(adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
      // Nothing used yet in this browser: the first namespace listed.
      await page.getByRole('button', { name: /^Namespace/ }).click();
      const firstListed = await page.getByRole('list', { name: 'Namespaces' }).locator('.ns').first().textContent();
      expect(page.url()).toMatch(new RegExp(`#/${firstListed}$`));

      await page.goto(`${env.ui}#/${ns}/webhooks`);
      await expect(page.getByRole('heading', { level: 1, name: 'Webhooks' })).toBeVisible();
      await page.goto(env.ui);
      await expect(page).toHaveURL(new RegExp(`#/${ns}$`));
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    });

    test('a key limited to a namespace lands on it, and cannot pick another', async ({ page }) => {
      // Used last in this browser, but not for this key.
      await page.goto(env.ui);
      await page.evaluate(() => localStorage.setItem('sparrow.namespaces', '["somebody-else"]'));
      await page.reload();
      await page.getByLabel('API key').fill(scopedKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page).toHaveURL(new RegExp(`#/${scopedNamespace}$`));
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();

      await page.getByRole('button', { name: /^Namespace/ }).click();
      await expect(page.locator('#namespace-hint')).toHaveText(`This API key may use ${scopedNamespace} only.`);
      const box = page.getByRole('textbox', { name: 'Namespace' });
      await box.fill('somebody-else');
      await expect(page.locator('#namespace-hint')).toHaveText('You may not use “somebody-else”.');
      await box.press('Enter');
      await expect(page.getByRole('alert')).toHaveText('You may not use “somebody-else”.');
      await expect(page).toHaveURL(new RegExp(`#/${scopedNamespace}$`));
      await shot(page, `${width}-scoped-picker`, false);

      // Nor by the address: no data, and why.
      await page.goto(`${env.ui}#/somebody-else/webhooks`);
      await expect(page.getByRole('alert')).toContainText('Your API key may not do this.');
      await expect(page.getByRole('alert')).toContainText('may not use namespace "somebody-else"');
      await expect(page.getByRole('heading', { level: 1, name: 'Webhooks' })).toHaveCount(0);
      await page.getByRole('link', { name: `Go to ${scopedNamespace}` }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();

      // Event types are every namespace's: this key may not register one.
      await page.getByRole('link', { name: 'Event types', exact: true }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Event types' })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Register' })).toHaveCount(0);
    });

    test('the search box finds each kind of id, here or in another namespace', async ({ page, ns }) => {
      const s = await seed(ns);
      await signIn(page, ns);
      const search = page.getByRole('searchbox', { name: 'Find by id' });
      await expect(search).toBeVisible();
      if (viewport) await expectFits(page, 'the header');

      const find = async (text: string) => {
        await search.fill(text);
        await search.press('Enter');
      };
      await find(`  ${s.eventId}\t`);
      await expect(page).toHaveURL(new RegExp(`#/${ns}/events/${s.eventId}$`));
      await expect(page.getByRole('heading', { level: 1, name: s.type })).toBeVisible();
      await expect(search).toHaveValue('');

      await find(s.deliveryId);
      await expect(page).toHaveURL(new RegExp(`#/${ns}/deliveries/${s.deliveryId}$`));
      await expect(page.getByTestId('delivery-status')).toBeVisible();

      await find(s.webhookId.toUpperCase());
      await expect(page).toHaveURL(new RegExp(`#/${ns}/webhooks/${s.webhookId}$`));
      await expect(page.getByRole('heading', { level: 1, name: s.url })).toBeVisible();

      await find(s.subscriptionId);
      await expect(page).toHaveURL(new RegExp(`#/${ns}/subscriptions/${s.subscriptionId}$`));
      await expect(page.getByRole('heading', { level: 1, name: `Subscription to ${s.type}` })).toBeVisible();

      // From a namespace that doesn't hold it: found in the one that does.
      const elsewhere = unique('e2e-elsewhere');
      await page.goto(`${env.ui}#/${elsewhere}`);
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
      await find(s.webhookId);
      await expect(page).toHaveURL(new RegExp(`#/${ns}/webhooks/${s.webhookId}$`));

      // Nowhere: not found, after looking everywhere.
      await find(absent);
      await expect(page.getByRole('alert')).toHaveText(new RegExp(`^No event ${absent} in ${ns} or the \\d+ other namespaces you may see\\.$`));
      await expect(search).toHaveAttribute('aria-invalid', 'true');
      await shot(page, `${width}-search-not-found`, false);
      // Not an id: which ones are.
      await find('rcv_01jd3k8q5v6w7x8y9zabcdefgh');
      await expect(page.getByRole('alert')).toContainText('ids start with evt_, dlv_, wh_, sub_.');
      await find(`evt_${'0'.repeat(10)}`);
      await expect(page.getByRole('alert')).toContainText('is not a whole event id');
    });
  });
}
