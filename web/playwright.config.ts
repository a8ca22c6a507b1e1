// End-to-end tests: Debian's Chromium (no browser download) against a real
// examples/server on a real database (make test-web runs this through
// withpg -fresh-schema) and a local receiver. Screenshots of each main
// page land in test-results/screenshots/.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  outputDir: 'test-results/playwright',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  forbidOnly: !!process.env.CI,
  projects: [
    { name: 'dashboard', testIgnore: /bulk\.spec\.ts/ },
    // 10,000 deliveries at once: after the rest, so as not to slow them down.
    { name: 'bulk', testMatch: /bulk\.spec\.ts/, dependencies: ['dashboard'] },
  ],
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      // No traffic but to loopback: without these Chromium calls home.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
