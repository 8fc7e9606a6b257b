/**
 * The Exchange (load/drivers/http.ts) against a real reference server: a response's headers are
 * readable inside its callback, and afterwards the header list undici handed over is left empty —
 * an old array that becomes garbage would otherwise keep the response's header Buffers alive
 * through every scavenge until a mark-compact (the short- and long-poll generators' GC, docs/generator-bench.md).
 */
import { Client as UndiciClient } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exchange } from '../../../load/drivers/http.ts';
import { startServer, type RunningServer } from '../../../servers/server.ts';

describe('Exchange', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reads headers inside the callback, then empties the header list it was given', async () => {
    const http = new UndiciClient(server.url, { pipelining: 1 });
    try {
      const lists: unknown[][] = [];
      const inside: (string | undefined)[] = [];
      const done: Promise<void>[] = [];
      for (let k = 0; k < 3; k++) {
        let resolve!: () => void;
        done.push(new Promise<void>((r) => (resolve = r)));
        const ex: Exchange = new Exchange(http, (err, status, body) => {
          expect(err).toBeNull();
          expect(status).toBe(200);
          expect(JSON.parse(body.toString()).messages).toEqual([]);
          inside.push(ex.header('content-type'));
          // still holding the headers while the callback runs
          expect(lists[k].length).toBeGreaterThan(0);
          resolve();
        });
        const onHeaders = ex.onHeaders.bind(ex);
        ex.onHeaders = (statusCode, rawHeaders) => {
          lists[k] = rawHeaders as unknown[];
          return onHeaders(statusCode, rawHeaders);
        };
        ex.send('GET', '/poll?topic=t0');
        await done[k];
      }
      expect(inside).toEqual(['application/json', 'application/json', 'application/json']);
      // three responses, three lists from undici, each emptied once its callback returned
      expect(new Set(lists).size).toBe(3);
      for (const l of lists) expect(l).toEqual([]);
    } finally {
      await http.close();
    }
  });
});
