/**
 * `--workload fanout` end to end: a topic per client, each fed by the reference server at the
 * rate, so every message has exactly one subscriber. Real server child, real clients.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../load/runner.ts';
import { expectCleanRun, runSettings } from './settings.ts';

const CLIENTS = 30;

describe('--workload fanout', () => {
  it.each(['ws', 'short-poll'] as const)('%s: a topic per client, every message to its one client, none lost', async (transport) => {
    const r = await runOnce(runSettings(transport, ['--workload', 'fanout', '--clients', String(CLIENTS), '--rate', '5', '--duration', '2s', '--warmup', '500ms'], `${transport}-fanout`));
    expect(r.config.workload).toBe('fanout');
    // 1.5 measured seconds at 5 msg/s on each client's own topic
    expectCleanRun(r, 1.5, 5, CLIENTS);
    // One subscriber per message: the server wrote each message once, so what it delivered in
    // the window is what the clients received (a broadcast over one topic would have each
    // client receive every topic's messages, CLIENTS times as many).
    expect(r.server!.delivered).toBeGreaterThanOrEqual(r.summary.delivered - 2 * CLIENTS);
    expect(r.server!.delivered).toBeLessThanOrEqual(r.summary.delivered + 2 * CLIENTS);
  }, 20_000);
});
