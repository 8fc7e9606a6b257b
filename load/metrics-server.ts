/**
 * The HTTP endpoint a Prometheus scrapes while a run goes on: `GET /metrics` answers the registry's
 * exposition (text format 0.0.4); anything else is a 404. It lives as long as the command that
 * opened it: close() frees the port (scrapers' keep-alive connections included), and the
 * commands close it at the end of their work, on Ctrl-C too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';

/** Where to listen: `--metrics-port N` is every interface, `--metrics HOST:PORT` one address. */
export interface MetricsAddress {
  host: string;
  port: number;
}

export interface MetricsServer {
  /** `http://HOST:PORT/metrics` with the real port (0 asks for any free one) */
  url: string;
  port: number;
  /** Stop listening and end every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Listen on `addr` and serve `registry`; resolves with the server, or with a sentence saying why
 * the address cannot be had (in use, not an address of this machine, not permitted).
 */
export async function serveMetrics(registry: Registry, addr: MetricsAddress): Promise<MetricsServer | string> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('pushbench: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const failed = await new Promise<string | null>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(listenProblem(addr, err)));
    server.listen(addr.port, addr.host, () => resolve(null));
  });
  if (failed) return failed;
  server.on('error', () => {});
  const { port } = server.address() as AddressInfo;
  const host = addr.host === '0.0.0.0' || addr.host === '::' ? '127.0.0.1' : addr.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

function listenProblem(addr: MetricsAddress, err: NodeJS.ErrnoException): string {
  const where = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
  if (err.code === 'EADDRINUSE') return `metrics: port ${addr.port} is in use (${where}); pick another --metrics-port`;
  if (err.code === 'EADDRNOTAVAIL') return `metrics: ${addr.host} is not an address of this machine`;
  if (err.code === 'EACCES') return `metrics: not permitted to listen on ${where} (ports below 1024 need privileges)`;
  return `metrics: cannot listen on ${where} (${err.code ?? err.message})`;
}
