/**
 * Test helpers for the driver suites: an event log implementing ClientEvents, a wait-until, and
 * a TCP proxy that can cut every connection through it (a "server closed the connection" that
 * keeps the server and its replay ring alive).
 */
import net from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../../../servers/server.ts';
import type { WireMessage } from '../../../core/wire.ts';
import type { ClientEvents, ClientSpec, MessageView } from '../../../load/drivers/types.ts';
import { messageOf } from '../../../load/drivers/fast-decode.ts';

export interface RequestEvent {
  plannedUs: number;
  sentUs: number;
  doneUs: number;
  empty: boolean;
}

/** Records every event a client emits, in arrival order. */
export class EventLog implements ClientEvents {
  readonly messages: { msg: WireMessage; recvUs: number }[] = [];
  readonly connects: number[] = [];
  readonly requests: RequestEvent[] = [];
  readonly errors: string[] = [];
  gaps = 0;
  reconnects = 0;

  connected(connectUs: number): void {
    this.connects.push(connectUs);
  }
  message(msg: WireMessage, recvUs: number): void {
    this.messages.push({ msg, recvUs });
  }
  messageView(view: MessageView, recvUs: number): void {
    this.messages.push({ msg: messageOf(view), recvUs });
  }
  request(plannedUs: number, sentUs: number, doneUs: number, empty: boolean): void {
    this.requests.push({ plannedUs, sentUs, doneUs, empty });
  }
  gap(): void {
    this.gaps++;
  }
  error(code: string): void {
    this.errors.push(code);
  }
  reconnecting(): void {
    this.reconnects++;
  }
  seqs(): number[] {
    return this.messages.map((m) => m.msg.seq);
  }
}

/** Resolves once `cond()` holds; rejects with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback TCP proxy to `targetPort`; `cut()` destroys every connection through it. */
export interface TcpProxy {
  url: string;
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const cut = () => {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Counts of the event-loop resources that keep a process alive, by type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** A reference server on port 0 and a {@link TcpProxy} in front of it, for the enclosing describe block. */
export function serverWithProxy(options: Partial<ServerOptions>): { server: RunningServer; proxy: TcpProxy } {
  const env = {} as { server: RunningServer; proxy: TcpProxy };
  beforeAll(async () => {
    env.server = await startServer({ ...options, port: 0 });
    env.proxy = await startTcpProxy(env.server.port);
  });
  afterAll(async () => {
    await env.proxy?.close();
    await env.server?.close();
  });
  return env;
}

/** A client of the contract tests: topic t0, a 50 ms poll grid, quick reconnects; `overrides` win. */
export function contractSpec(baseUrl: string, overrides: Partial<ClientSpec> = {}): ClientSpec {
  return {
    id: 0,
    baseUrl,
    topic: 't0',
    localAddress: '127.0.0.1',
    pollIntervalMs: 50,
    pollOffsetMs: 0,
    longPollTimeoutMs: 1000,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    ...overrides,
  };
}
