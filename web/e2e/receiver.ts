// The webhook receiver the tests deliver to, on loopback:
//   POST /ok/<name>       200
//   POST /fail/<name>     500, with an HTML body (which the UI must show as text)
//   POST /switch/<name>   500 until POST /control/<name>, then 200
//   POST /slow/<name>     200 after 5 s: past a webhook timeout of a second or two
//   POST /code/<n>/<name> HTTP status n (404, 503, ...)
//   POST /control/<name>  mends /switch/<name>; answers as GET does
//   GET  /control/<name>  {"received": n}: deliveries that reached <name>
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const received = new Map<string, number>();
  const fixed = new Set<string>();
  const server: Server = createServer((req, res) => {
    const [, kind = '', second = '', third = ''] = (req.url ?? '/').split('/');
    const name = kind === 'code' ? third : second;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (kind === 'control') {
        if (req.method === 'POST') fixed.add(name);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ received: received.get(name) ?? 0 }));
        return;
      }
      received.set(name, (received.get(name) ?? 0) + 1);
      if (kind === 'slow') {
        const timer = setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"slow": true}');
        }, 5000);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      if (kind === 'code') {
        const code = Number(second);
        res.writeHead(code >= 100 && code <= 599 ? code : 500, { 'Content-Type': 'text/plain' });
        res.end(`status ${second}`);
        return;
      }
      const ok = kind === 'ok' || (kind === 'switch' && fixed.has(name));
      if (ok) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Receiver': 'sparrow-e2e' });
        res.end(JSON.stringify({ received: true, name }));
      } else {
        res.writeHead(500, { 'Content-Type': 'text/html' });
        res.end('<html><body><script>window.__pwned = "response"</script><b>upstream exploded</b></body></html>');
      }
    });
  });
  // Idle connections outlive Sparrow's (90 s): with Node's default of 5 s
  // the receiver could close one just as a delivery reused it, and that
  // delivery would fail with a connection reset.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
