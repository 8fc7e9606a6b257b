/**
 * Micro-benchmark of the push drivers' receive path: CPU µs this process spends per delivered
 * message for the pushbench SSE and WebSocket drivers, against bare clients on the same
 * connections that only count (SSE: `\n\n` boundaries in an undici dispatch body; ws: frames),
 * and against the SSE driver's parser fed by node:http instead of undici.
 *
 *   node --import tsx bench/drivers.ts [clients=100] [ratePerS=200] [seconds=5]
 *
 * The reference server runs as a child pinned to CPU 0, this process to CPU 1 (when taskset
 * exists). Each variant gets the same clients, topic and rate, so CPU per message compares them;
 * "ratio" is bare CPU/msg ÷ variant CPU/msg (1.0 = as cheap as counting bytes).
 */
import http from 'node:http';
import { Client as UndiciClient, type Dispatcher } from 'undici';
import WebSocket from 'ws';
import { driverFor } from '../load/drivers/index.ts';
import { SseParser } from '../load/drivers/sse-parser.ts';
import type { ClientEvents } from '../load/drivers/types.ts';
import { pinSelf, spawnTs } from '../core/spawn.ts';
import { repoPath } from '../core/tsx.ts';
import { decodeMessage } from '../core/wire.ts';

const [clients = 100, ratePerS = 200, seconds = 5] = process.argv.slice(2).map(Number);

interface Variant {
  name: string;
  /** open `clients` connections counting into `counter.n`; resolves with a closer once all are open */
  open(baseUrl: string, counter: { n: number }): Promise<() => Promise<void>>;
}

function countingEvents(counter: { n: number }, opened: () => void): ClientEvents {
  return {
    connected: opened,
    message: () => {
      counter.n++;
    },
    messageView: () => {
      counter.n++;
    },
    request: () => {},
    gap: () => {},
    error: () => {},
    reconnecting: () => {},
  };
}

function driverVariant(transport: 'sse' | 'ws'): Variant {
  return {
    name: `driver ${transport}`,
    async open(baseUrl, counter) {
      let opened = 0;
      const all = [...Array(clients).keys()].map((id) =>
        driverFor(transport).create(
          { id, baseUrl, topic: 't0', pollIntervalMs: 0, pollOffsetMs: 0, longPollTimeoutMs: 30_000, reconnectMinMs: 100, reconnectMaxMs: 1000 },
          countingEvents(counter, () => opened++),
        ),
      );
      for (const c of all) c.start();
      while (opened < clients) await new Promise((r) => setTimeout(r, 20));
      return async () => void (await Promise.all(all.map((c) => c.close())));
    },
  };
}

const bareSse: Variant = {
  name: 'bare sse (undici, counts \\n\\n)',
  async open(baseUrl, counter) {
    let opened = 0;
    const all = [...Array(clients).keys()].map(() => {
      const c = new UndiciClient(baseUrl, { pipelining: 1, bodyTimeout: 0 });
      let lastWasNl = false;
      const handler: Dispatcher.DispatchHandler = {
        onConnect: () => {},
        onHeaders: () => {
          opened++;
          return true;
        },
        onData: (chunk: Buffer) => {
          let from = 0;
          if (lastWasNl && chunk[0] === 10) {
            counter.n++;
            from = 1;
          }
          for (let at = chunk.indexOf('\n\n', from); at >= 0; at = chunk.indexOf('\n\n', at + 2)) counter.n++;
          lastWasNl = chunk[chunk.length - 1] === 10;
          return true;
        },
        onComplete: () => {},
        onError: () => {},
      };
      c.dispatch({ method: 'GET', path: '/sse?topic=t0', headers: { accept: 'text/event-stream' } }, handler);
      return c;
    });
    while (opened < clients) await new Promise((r) => setTimeout(r, 20));
    counter.n = 0;
    return async () => void (await Promise.all(all.map((c) => c.destroy())));
  },
};

const nodeHttpSse: Variant = {
  name: 'node:http + SseParser + decode',
  async open(baseUrl, counter) {
    let opened = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    const reqs = [...Array(clients).keys()].map(() => {
      const parser = new SseParser((_type, data) => {
        if (decodeMessage(data) !== undefined) counter.n++;
      });
      const req = http.get(`${baseUrl}/sse?topic=t0`, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
        opened++;
        res.on('data', (chunk: Buffer) => parser.push(chunk));
      });
      req.on('error', () => {});
      return req;
    });
    while (opened < clients) await new Promise((r) => setTimeout(r, 20));
    return async () => {
      for (const r of reqs) r.destroy();
      agent.destroy();
    };
  },
};

const bareWs: Variant = {
  name: 'bare ws (counts frames)',
  async open(baseUrl, counter) {
    let opened = 0;
    const all = [...Array(clients).keys()].map(() => {
      const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?topic=t0`, { perMessageDeflate: false });
      ws.on('open', () => opened++);
      ws.on('message', () => counter.n++);
      ws.on('error', () => {});
      return ws;
    });
    while (opened < clients) await new Promise((r) => setTimeout(r, 20));
    return async () => {
      for (const ws of all) ws.terminate();
    };
  },
};

async function measure(v: Variant, baseUrl: string): Promise<{ perS: number; cpuUsPerMsg: number }> {
  const counter = { n: 0 };
  const close = await v.open(baseUrl, counter);
  await new Promise((r) => setTimeout(r, 1000)); // warm up
  counter.n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const elapsedS = (performance.now() - t0) / 1000;
  const n = counter.n;
  await close();
  await new Promise((r) => setTimeout(r, 300));
  return { perS: n / elapsedS, cpuUsPerMsg: (cpu.user + cpu.system) / Math.max(1, n) };
}

const pinned = pinSelf('1');
const server = await spawnTs(repoPath('servers/serve.ts'), ['--port', '0', '--rate', String(ratePerS), '--topics', '1', '--payload', '64'], {
  cpus: '0',
  ready: /^pushbench listening on (\S+)/,
  what: 'reference server',
});
try {
  console.log(`${clients} clients × ${ratePerS} msg/s, ${seconds} s per variant, pinned: ${pinned}`);
  const rows: [string, { perS: number; cpuUsPerMsg: number }, number][] = [];
  for (const [bare, others] of [
    [bareSse, [driverVariant('sse'), nodeHttpSse]],
    [bareWs, [driverVariant('ws')]],
  ] as const) {
    const b = await measure(bare, server.url);
    rows.push([bare.name, b, 1]);
    for (const v of others) {
      const r = await measure(v, server.url);
      rows.push([v.name, r, b.cpuUsPerMsg / r.cpuUsPerMsg]);
    }
  }
  for (const [name, r, ratio] of rows) {
    console.log(`${name.padEnd(34)} ${Math.round(r.perS).toString().padStart(8)} msg/s  ${r.cpuUsPerMsg.toFixed(2).padStart(6)} µs CPU/msg  ratio ${ratio.toFixed(2)}`);
  }
} finally {
  await server.stop();
}
