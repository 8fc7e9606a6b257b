/**
 * `run --large-topic` (docs/http2.md): topic t0's messages carry the large size, on the wire and in
 * the data the clients decode; its subscribers — with --topics N = --streams-per-connection N, one
 * tab per browser — are recorded apart, and the other tabs' figures are theirs alone, nothing
 * lost; bad input is refused before any work. The head-of-line it causes is measured by
 * `npm run bench:h2` (part 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../cli/run-command.ts';
import { runOnce } from '../../load/runner.ts';
import { pushbench } from '../cli.ts';

const out = mkdtempSync(join(tmpdir(), 'pushbench-large-topic-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const LARGE = 64 * 1024;
const SMALL = 1024;

describe('run --large-topic', () => {
  it('2 browsers of 10 sse-h2 tabs on 10 topics: one large tab each, its 64 KB messages on the wire and apart; the other tabs get every 1 KB message', async () => {
    const parsed = parseRunArgs(['--transport', 'sse-h2', '--tls', '--clients', '20', '--streams-per-connection', '10', '--topics', '10', '--workers', '1',
      '--payload', String(SMALL), '--large-topic', String(LARGE), '--rate', '10', '--duration', '1500ms', '--warmup', '500ms', '--out', out, '--no-report']);
    if (parsed === 'help') throw new Error('help');
    const r = await runOnce(parsed.settings);
    expect(r.invalidReasons).toEqual([]);
    expect(r.config.largeTopicBytes).toBe(LARGE);
    const large = r.largeTopic!;
    // one generator thread fills each browser with 10 consecutive ids, and id i subscribes t(i mod 10):
    // ids 0 and 10, tab 0 of each browser
    expect(large.clients).toBe(2);
    expect(r.server!.connectionsOpen).toBe(2);
    // 1 measured second at 10 msg/s a topic, ± one message a tab at each window edge
    const near = (delivered: number, tabs: number) => expect(Math.abs(delivered - 10 * tabs)).toBeLessThanOrEqual(2 * tabs);
    near(large.delivered, 2);
    expect(large.lost).toBe(0);
    expect(large.expected).toBe(large.delivered);
    expect(large.payloadBytesPerMessage).toBe(LARGE);
    // the other 18 tabs: every message, and only 1 KB ones (none of the large tab's in their books)
    near(r.summary.delivered, 18);
    expect(r.summary.lost).toBe(0);
    expect(r.summary.expected).toBe(r.summary.delivered);
    expect(r.counters.payloadBytesDelivered).toBe(SMALL * r.counters.delivered);
    // on the wire: the window's socket bytes hold the large messages delivered in it, less at most
    // one per large tab read partly before the window began
    expect(r.counters.bytesRead).toBeGreaterThanOrEqual((large.delivered - large.clients) * LARGE);
  }, 15_000);

  it('bad input: exit 2, every problem listed', async () => {
    const a = await pushbench(['run', '--transport', 'sse', '--topics', '1', '--payload', '2KB', '--large-topic', '1KB', '--slow-clients', '10%:2KB/s',
      '--target', 'http://127.0.0.1:9', '--out', out]);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--large-topic shapes the reference server\'s own publisher');
    expect(a.stderr).toContain('--large-topic needs --topics 2 or more');
    expect(a.stderr).toContain('--large-topic 1024 must be larger than --payload 2048');
    expect(a.stderr).toContain('--large-topic and --slow-clients each keep clients apart');
    const b = await pushbench(['run', '--transport', 'sse', '--workload', 'chat', '--large-topic', '64KB', '--out', out]);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('not with --workload chat');
  }, 15_000);
});
