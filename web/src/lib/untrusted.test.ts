// Payloads, response bodies and headers come from strangers: the app must
// never hand them to the HTML parser. Svelte escapes {text}; only {@html}
// and DOM properties like innerHTML don't, so none may appear.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gen' ? [] : sources(path);
    return /\.(svelte|ts)$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('untrusted content', () => {
  const files = sources(join(__dirname, '..'));
  it('finds the sources', () => expect(files.length).toBeGreaterThan(20));
  it.each(files)('%s renders no raw HTML', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/\{@html|innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
