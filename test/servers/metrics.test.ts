/**
 * The reference server's `GET /metrics`: it parses and passes the lint (test/fixtures/exposition.ts),
 * its delivered counts equal `/stats`' at the same moment, and the replay ring's hits and gaps are
 * counted. Real sockets, no publisher running (so nothing moves between the two reads).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../servers/server.ts';
import type { StatsSnapshot } from '../../core/wire.ts';
import { checkExposition, valueOf } from '../fixtures/exposition.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function publish(url: string, topic: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/publish?topic=${topic}`, { method: 'POST', body: JSON.stringify({ data: `m${i}` }) });
    expect(res.status).toBe(200);
  }
}

describe('GET /metrics', () => {
  it('parses, and its delivered counts are /stats\'', async () => {
    server = await startServer({ port: 0, ratePerS: 0, ringSize: 4 });
    const { url } = server;
    await publish(url, 'a', 6);
    // 3 short polls from the start: the ring holds seqs 3..6, so each gets 4 messages and a gap.
    for (let i = 0; i < 3; i++) {
      const body = (await (await fetch(`${url}/poll?topic=a&since=0`)).json()) as { messages: unknown[]; gap: boolean };
      expect(body.messages).toHaveLength(4);
      expect(body.gap).toBe(true);
    }
    // one more from seq 5: 1 message, no gap
    await fetch(`${url}/poll?topic=a&since=5`).then((r) => r.json());
    const x = checkExposition(await (await fetch(`${url}/metrics`)).text());
    const stats = (await (await fetch(`${url}/stats`)).json()) as StatsSnapshot;
    expect(stats.deliveredTotal).toBe(13);
    expect(valueOf(x, 'pushbench_server_delivered_total')).toBe(stats.deliveredTotal);
    for (const [transport, n] of Object.entries(stats.delivered)) expect(valueOf(x, 'pushbench_server_delivered_total', { transport })).toBe(n);
    expect(valueOf(x, 'pushbench_server_published_total')).toBe(stats.published);
    expect(valueOf(x, 'pushbench_server_replayed_total')).toBe(13);
    expect(valueOf(x, 'pushbench_server_replay_gaps_total')).toBe(3);
    expect(valueOf(x, 'pushbench_server_topics')).toBe(stats.topics);
    // /metrics itself is one more request than /stats saw before it was asked
    expect(valueOf(x, 'pushbench_server_http_requests_total')).toBe(stats.httpRequests - 1);
    expect(x.families.get('process_cpu_seconds_total')).toBe('counter');
    expect(x.families.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
  });

  it('counts only up from one scrape to the next', async () => {
    server = await startServer({ port: 0, ratePerS: 0 });
    const { url } = server;
    await publish(url, 'b', 2);
    await fetch(`${url}/poll?topic=b&since=0`).then((r) => r.json());
    const first = checkExposition(await (await fetch(`${url}/metrics`)).text());
    await fetch(`${url}/poll?topic=b&since=1`).then((r) => r.json());
    const second = checkExposition(await (await fetch(`${url}/metrics`)).text());
    expect(valueOf(first, 'pushbench_server_delivered_total')).toBe(2);
    expect(valueOf(second, 'pushbench_server_delivered_total')).toBe(3);
    expect(valueOf(second, 'pushbench_server_written_bytes_total')).toBeGreaterThan(valueOf(first, 'pushbench_server_written_bytes_total'));
  });
});
