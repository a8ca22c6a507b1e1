// What the tests share: where things are, a namespace of their own, signing
// in, seeding through the API, screenshots, and a watch for scripts that
// fail or that the Content-Security-Policy blocks.
import { test as base, expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { adminKey } from './keys';

export { expect };

export const env = {
  get ui() {
    return process.env.SPARROW_E2E_UI!;
  },
  get api() {
    return process.env.SPARROW_E2E_API!;
  },
  get receiver() {
    return process.env.SPARROW_E2E_RECEIVER!;
  },
};

/** A name no other test uses (event types are shared by every namespace). */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** call makes an API call, as a host application would, to set the scene. */
export async function call<T = Record<string, unknown>>(method: string, body: unknown, key = adminKey): Promise<T> {
  const res = await fetch(`${env.api}${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

/** signIn opens the dashboard at a namespace and gives it an API key. */
export async function signIn(page: Page, ns: string, key = adminKey): Promise<void> {
  await page.goto(`${env.ui}#/${ns}`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
}

/** shot saves a screenshot of the whole page (or what the window shows) as a build artifact. */
export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join('test-results', 'screenshots', `${name}.png`), fullPage });
}

/** The window of a phone, held upright. */
export const phone = { width: 390, height: 844 };

/**
 * expectFits fails when something is wider than the window: the page
 * itself, or a box (a table's) that the user would have to scroll sideways.
 */
export async function expectFits(page: Page, what: string): Promise<void> {
  const wide = await page.evaluate(() => {
    const root = document.documentElement;
    const out: string[] = [];
    if (root.scrollWidth > root.clientWidth) {
      // Name what sticks out: the innermost elements past the window's edge.
      const past = [...document.querySelectorAll<HTMLElement>('body *')].filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1);
      const innermost = past.filter((el) => !past.some((other) => other !== el && el.contains(other)));
      const culprits = innermost.slice(0, 3).map((el) => `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 60)}"`);
      out.push(`the page is ${root.scrollWidth}px wide in ${root.clientWidth}px: ${culprits.join(', ')}`);
    }
    for (const el of document.querySelectorAll<HTMLElement>('body *')) {
      if (!/auto|scroll/.test(getComputedStyle(el).overflowX)) continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        const name = [el.tagName.toLowerCase(), ...el.classList].join('.');
        out.push(`${name} holds ${el.scrollWidth}px in ${el.clientWidth}px`);
      }
    }
    return out;
  });
  expect(wide, `nothing on ${what} is wider than the screen`).toEqual([]);
}

export const test = base.extend<{ ns: string }>({
  ns: async ({}, use) => {
    await use(unique('e2e'));
  },
  page: async ({ page }, use) => {
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content.Security.Policy/i.test(msg.text())) problems.push(`csp: ${msg.text()}`);
    });
    await use(page);
    expect(problems, 'no script errors and nothing blocked by the Content-Security-Policy').toEqual([]);
  },
});
