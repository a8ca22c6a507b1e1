// Finishes `vite build` for embedding (run by `npm run build`):
//
//  1. SvelteKit's page boots the app with an inline <script>. The dashboard
//     is served with a Content-Security-Policy that allows no inline script,
//     so the script moves to a file of its own, named by its content.
//  2. SvelteKit's fallback page uses root-relative URLs (/_app/...). The app
//     routes by hash, so the page is only ever loaded at the mount point and
//     relative URLs (./_app/...) work under any prefix a host mounts it at.
//  3. dashboard/dist-sources.sha256 records a hash of the sources the build
//     read, which a Go test (dashboard/stale_test.go) recomputes to tell a
//     stale dist apart, without Node.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourcesDigest } from './sources.js';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(web, '..', 'dashboard', 'dist');
const indexPath = join(dist, 'index.html');
let html = readFileSync(indexPath, 'utf8');

const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
if (inline.length !== 1) {
  throw new Error(`postbuild: expected SvelteKit's one inline <script> in index.html, found ${inline.length}`);
}
const [tag, body] = inline[0];
// The boot script lives in _app/immutable/, next to the bundle it imports;
// a classic script's import() resolves against the script's own URL.
const boot = dedent(body.replace(/import\("\/_app\/immutable\//g, 'import("./'));
if (boot.includes('"/_app/')) {
  throw new Error('postbuild: the boot script still has a root-relative URL');
}
const name = `boot.${createHash('sha256').update(boot).digest('base64url').slice(0, 8)}.js`;
mkdirSync(join(dist, '_app', 'immutable'), { recursive: true });
writeFileSync(join(dist, '_app', 'immutable', name), boot + '\n');
// Classic and synchronous, so that document.currentScript (which the boot
// script reads to find where to mount) is set while it runs.
html = html.replace(tag, `<script src="./_app/immutable/${name}"></script>`);

html = html.replace(/(href|src)="\/(?!\/)/g, '$1="./');
if (/(href|src)="\//.test(html) || /<script>/.test(html)) {
  throw new Error('postbuild: index.html still has a root-relative URL or an inline script');
}
writeFileSync(indexPath, html);

writeFileSync(
  join(web, '..', 'dashboard', 'dist-sources.sha256'),
  `${sourcesDigest(join(web, '..'))}  web sources of dashboard/dist (web/scripts/sources.js)\n`,
);

/** dedent removes the indentation the lines share and the blank ends. */
function dedent(text) {
  const lines = text.replace(/^\s*\n|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)[0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
