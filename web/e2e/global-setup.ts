// Starts what the tests need and hands its addresses to them through the
// environment: a receiver, and examples/server (built from this checkout)
// on DATABASE_URL with API keys and a portal secret, on free loopback ports.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReceiver } from './receiver';
import { adminKey, portalSecret, scopedKey, scopedNamespace } from './keys';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(web, '..');

export default async function globalSetup() {
  if (!process.env.DATABASE_URL) {
    throw new Error('DATABASE_URL is not set: run the e2e tests through make test-web (withpg -fresh-schema)');
  }
  rmSync(join(web, 'test-results', 'screenshots'), { recursive: true, force: true });
  mkdirSync(join(web, 'test-results', 'screenshots'), { recursive: true });

  let bin = process.env.SPARROW_SERVER_BIN;
  if (!bin) {
    bin = join(web, 'test-results', 'sparrow-server');
    execFileSync('go', ['build', '-o', bin, './examples/server'], { cwd: repo, stdio: 'inherit' });
  }

  const receiver = await startReceiver();
  const server = spawn(bin, [], {
    env: {
      ...process.env,
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      RIVER_UI_PORT: 'off',
      SPARROW_BIND: '127.0.0.1',
      SPARROW_ALLOW_PRIVATE_NETWORKS: 'true',
      SPARROW_API_KEY: adminKey,
      SPARROW_API_KEYS: `${scopedKey}:${scopedNamespace}`,
      SPARROW_PORTAL_SECRET: portalSecret,
      SPARROW_SHUTDOWN_TIMEOUT: '2s',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const addr = await new Promise<string>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`examples/server did not start in 60s:\n${log}`)), 60_000);
    server.on('exit', (code) => reject(new Error(`examples/server exited (${code}):\n${log}`)));
    server.stderr!.on('data', (chunk: Buffer) => {
      log += chunk;
      const m = /msg="sparrow serving" http=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  // Pass on the server's warnings and errors, not its chatter.
  server.stderr!.on('data', (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (/level=(WARN|ERROR)/.test(line)) process.stderr.write(`server: ${line}\n`);
  });
  const base = `http://${addr}`;
  for (let i = 0; ; i++) {
    const ready = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 150) throw new Error('examples/server never became ready');
    await new Promise((r) => setTimeout(r, 200));
  }

  process.env.SPARROW_E2E_API = `${base}/`;
  process.env.SPARROW_E2E_UI = `${base}/ui/`;
  process.env.SPARROW_E2E_RECEIVER = receiver.url;

  return async () => {
    server.kill('SIGTERM');
    await new Promise((resolve) => {
      if (server.exitCode !== null) return resolve(undefined);
      server.on('exit', resolve);
      setTimeout(() => (server.kill('SIGKILL'), resolve(undefined)), 5000);
    });
    await receiver.close();
  };
}
