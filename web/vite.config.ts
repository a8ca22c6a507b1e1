import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// The API runs on examples/server (make run, port 8080); the dev server
// forwards the Connect calls (POST /webhook.<Service>/<Method>) to it, as
// the server's own origin: the server refuses calls a browser sends from
// another site, and a development proxy is not one.
const api = process.env.SPARROW_API ?? 'http://localhost:8080';

// SvelteKit's route announcer (the live region that reads out page titles)
// carries an inline style attribute, which the dashboard's
// Content-Security-Policy (style-src 'self') refuses. This moves the style
// to app.css (#svelte-announcer).
const announcerWithoutInlineStyle: Plugin = {
  name: 'sparrow:announcer-without-inline-style',
  enforce: 'pre',
  transform(code, id) {
    if (!id.replace(/\\/g, '/').endsWith('/generated/root.svelte')) return;
    const out = code.replace(/(<div id="svelte-announcer"[^>]*?) style="[^"]*"/, '$1');
    if (out === code) this.error('the route announcer in root.svelte changed: update vite.config.ts');
    return out;
  },
};

export default defineConfig({
  plugins: [announcerWithoutInlineStyle, sveltekit()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: { '^/webhook\\.[A-Za-z]+Service/': { target: api, changeOrigin: true, headers: { origin: api } } },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
