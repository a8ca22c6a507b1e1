// The sources a dashboard build reads, and their digest. The Go test
// dashboard/stale_test.go computes the same digest the same way: keep the
// two in step.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Directories whose files are inputs, and single input files, from the repository root. */
export const inputDirs = ['web/src', 'web/static'];
export const inputFiles = [
  'web/package-lock.json',
  'web/scripts/postbuild.js',
  'web/scripts/sources.js',
  'web/svelte.config.js',
  'web/tsconfig.json',
  'web/vite.config.ts',
];

/** Not inputs: unit tests, and dot files such as editors' droppings. */
export function ignored(name) {
  return name.startsWith('.') || /\.test\.ts$/.test(name);
}

/** The input files' paths, relative to root, sorted. */
export function sourceFiles(root) {
  const out = [...inputFiles];
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel))) {
      if (ignored(name)) continue;
      const path = `${rel}/${name}`;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  for (const dir of inputDirs) if (existsSync(join(root, dir))) walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** sha256 over each file's path, length and bytes (CRLF read as LF, for checkouts that convert), in order. */
export function sourcesDigest(root) {
  const h = createHash('sha256');
  for (const path of sourceFiles(root)) {
    const content = Buffer.from(readFileSync(join(root, path)).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    h.update(`${path}\n${content.length}\n`);
    h.update(content);
  }
  return h.digest('hex');
}
