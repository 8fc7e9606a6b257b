import { connect } from 'node:net';
import { EventSource, type FetchLike } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../servers/server.ts';
import { decodeMessage, type GapNotice } from '../../core/wire.ts';
import { parseSse, sleep, until } from './helpers.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Open a raw TCP connection, send `GET path` with `headers`, and collect everything it returns. */
async function rawGet(path: string, headers: string[] = []) {
  const sock = connect(server!.port, '127.0.0.1');
  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (text += d));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write([`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Accept: text/event-stream', ...headers, '', ''].join('\r\n'));
  return {
    text: () => text,
    body: () => text.slice(text.indexOf('\r\n\r\n') + 4),
    closed,
    close: async () => {
      sock.destroy();
      await closed;
    },
  };
}

describe('SSE on the wire', () => {
  it('sends retry first, then id/data events per the spec, and comment heartbeats', async () => {
    server = await startServer({ port: 0, ratePerS: 0, heartbeatMs: 100, sseRetryMs: 1234 });
    const c = await rawGet('/sse?topic=s');
    await until(() => c.body().startsWith('retry: 1234\n\n'), 'the retry field');
    const head = c.text().slice(0, c.text().indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toMatch(/^http\/1\.1 200 ok\r\n/);
    expect(head).toContain('content-type: text/event-stream');
    expect(head).toContain('cache-control: no-store');
    expect(head).not.toContain('transfer-encoding');
    server.hub.publish('s', 'one', 11);
    server.hub.publish('s', 'two\nlines?', 12);
    await until(() => parseSse(c.body()).events.filter((e) => e.data).length === 2, 'two events');
    await until(() => c.body().includes(':hb\n\n'), 'a heartbeat');
    const e = server.hub.epoch;
    expect(c.body()).toContain(`id: ${e}:1\ndata: {"seq":1,"ts":11,"topic":"s","epoch":"${e}","data":"one"}\n\n`);
    const events = parseSse(c.body()).events.filter((x) => x.data);
    expect(events.map((x) => [x.event, x.id, decodeMessage(x.data)?.data])).toEqual([
      ['message', `${e}:1`, 'one'],
      ['message', `${e}:2`, 'two\nlines?'],
    ]);
    await c.close();
  });

  it('resumes from Last-Event-ID with exactly the missed events, and sends event: gap when they are gone', async () => {
    server = await startServer({ port: 0, ratePerS: 0, ringSize: 5 });
    const e = server.hub.epoch;
    for (let i = 1; i <= 8; i++) server.hub.publish('s', `m${i}`, i);
    const inRing = await rawGet('/sse?topic=s', [`Last-Event-ID: ${e}:6`]);
    await until(() => parseSse(inRing.body()).events.filter((x) => x.data).length === 2, 'the replay');
    const replay = parseSse(inRing.body()).events.filter((x) => x.data);
    expect(replay.map((x) => x.id)).toEqual([`${e}:7`, `${e}:8`]);
    await inRing.close();

    const query = await rawGet(`/sse?topic=s&lastEventId=${e}:1`);
    await until(() => parseSse(query.body()).events.filter((x) => x.data).length === 6, 'gap and replay');
    const events = parseSse(query.body()).events.filter((x) => x.data);
    expect(events[0].event).toBe('gap');
    expect(JSON.parse(events[0].data) as GapNotice).toEqual({ type: 'gap', topic: 's', epoch: e, from: 2, to: 3 });
    expect(events.slice(1).map((x) => x.id)).toEqual([4, 5, 6, 7, 8].map((s) => `${e}:${s}`));
    await query.close();
  });

  it('ends the stream when the server closes', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const c = await rawGet('/sse?topic=s');
    await until(() => c.body().startsWith('retry:'), 'the stream');
    await server.close();
    await c.closed;
  });
});

describe('SSE with an independent client (eventsource package)', () => {
  it('receives every event and resumes after a dropped connection with Last-Event-ID, losing nothing', async () => {
    server = await startServer({ port: 0, ratePerS: 0, sseRetryMs: 50 });
    const hub = server.hub;
    const lastEventIds: (string | undefined)[] = [];
    let cut: (() => void) | undefined;
    // Cuts the first connection on demand; on the reconnect, publishes 4..6 first, so they are
    // exactly the messages missed while disconnected.
    const cuttingFetch: FetchLike = async (url, init) => {
      lastEventIds.push(init.headers['Last-Event-ID'] ?? init.headers['last-event-id']);
      if (lastEventIds.length === 2) for (let i = 4; i <= 6; i++) hub.publish('es', `m${i}`, i);
      const res = await fetch(url, init);
      if (lastEventIds.length > 1 || !res.body) return res;
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
        start(controller) {
          cut = () => {
            controller.close();
            void reader.cancel();
          };
        },
        async pull(controller) {
          const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        },
      });
      return { body, url: res.url, status: res.status, redirected: res.redirected, headers: res.headers };
    };
    const es = new EventSource(`${server.url}/sse?topic=es`, { fetch: cuttingFetch });
    const got: { id: string; seq: number }[] = [];
    es.onmessage = (ev) => got.push({ id: ev.lastEventId, seq: decodeMessage(ev.data as string)!.seq });
    try {
      await new Promise<void>((resolve, reject) => {
        es.onopen = () => resolve();
        setTimeout(() => reject(new Error('no open')), 5000);
      });
      for (let i = 1; i <= 3; i++) hub.publish('es', `m${i}`, i);
      await until(() => got.length === 3, '3 events');
      cut!();
      await until(() => got.length === 6, 'the replayed events');
      hub.publish('es', 'm7', 7);
      await until(() => got.length === 7, 'a live event after the resume');
      await sleep(50);
      expect(got.map((g) => g.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(got[6].id).toBe(`${hub.epoch}:7`);
      expect(lastEventIds).toEqual([undefined, `${hub.epoch}:3`]);
    } finally {
      es.close();
    }
  });

  it('dispatches the gap event by name', async () => {
    server = await startServer({ port: 0, ratePerS: 0, ringSize: 2 });
    for (let i = 1; i <= 5; i++) server.hub.publish('g', `m${i}`, i);
    const es = new EventSource(`${server.url}/sse?topic=g&lastEventId=${server.hub.epoch}:1`);
    const gaps: GapNotice[] = [];
    const seqs: number[] = [];
    es.addEventListener('gap', (ev) => gaps.push(JSON.parse(ev.data as string) as GapNotice));
    es.onmessage = (ev) => seqs.push(decodeMessage(ev.data as string)!.seq);
    try {
      await until(() => seqs.length === 2, 'the replay');
      expect(gaps).toEqual([{ type: 'gap', topic: 'g', epoch: server.hub.epoch, from: 2, to: 3 }]);
      expect(seqs).toEqual([4, 5]);
    } finally {
      es.close();
    }
  });
});
