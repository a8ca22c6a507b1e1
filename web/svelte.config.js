import adapter from '@sveltejs/adapter-static';

/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    // A single page with hash routing (#/webhooks/...): the built app is
    // one index.html and its assets, with relative URLs, so a host can
    // mount it under any path prefix without telling it the prefix.
    adapter: adapter({ pages: '../dashboard/dist', assets: '../dashboard/dist', fallback: 'index.html', strict: true }),
    router: { type: 'hash' },
    paths: { relative: true },
    output: { bundleStrategy: 'single' },
    // A fixed version name keeps the build deterministic (the default is
    // the build time): the same sources always give the same dist.
    version: { name: 'sparrow-dashboard' },
    // The TypeScript generated from proto/webhook.proto (make generate).
    alias: { $gen: 'src/gen' },
  },
};
