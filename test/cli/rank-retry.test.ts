/**
 * `rank`'s own re-run: an invalid run is run once more, both records are kept, and only valid runs
 * are ranked. This test makes one rank and never re-runs itself; the invalid run is certain, not
 * hoped for: a target that answers one message per poll (shaped-server.ts `onePerPoll`), polled
 * every 250 ms at 10 msg/s per topic, falls six messages further behind every second, so on every
 * try each client ends the drain at least seven of the window's messages short (the arithmetic is
 * test/load/target/drain.test.ts's, same run) — far past the 0.1 % that makes a run invalid.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../core/record.ts';
import { pushbench } from '../cli.ts';
import { SHAPED_PROFILE, shapedServerPerFile } from '../load/target/shaped-server.ts';

const onePerPoll = shapedServerPerFile({ onePerPoll: true });
const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-retry-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('pushbench rank re-runs an invalid run', () => {
  it('once: both records written, the reason printed, the second try summarised and, invalid too, left out of the ranking', async () => {
    const r = await pushbench(['rank', '--transports', 'short-poll', '--rates', '10', '--network', 'loopback', '--clients', '20', '--topics', '2', '--repeats', '1',
      '--duration', '2s', '--warmup', '500ms', '--poll-interval', '250ms', '--target', onePerPoll().url, '--profile', SHAPED_PROFILE,
      '--out', out, '--name', 'retry', '--no-report'], 50_000);
    expect(r.stderr).not.toMatch(/unexpected error/);
    const dir = join(out, 'retry');
    const runs = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'ranking.json').sort();
    expect(runs).toEqual(['short-poll-loopback-10mps-20c-r1-retry.json', 'short-poll-loopback-10mps-20c-r1.json']);
    for (const f of runs) {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResultRecord;
      expect(rec.valid, f).toBe(false);
      expect(rec.invalidReasons.join('\n'), f).toMatch(/expected messages \(.* %\) had not arrived by the end of the drain/);
      // 20 clients, each at least seven behind (see the header)
      expect(rec.summary.undelivered, f).toBeGreaterThanOrEqual(7 * 20);
    }
    // the reason, then the second try, on the progress stream
    expect(r.stderr).toMatch(/\[1\/1\] short-poll-loopback-10mps-20c-r1\n(.*\n)*? {2}invalid \(\d+ of 300 expected messages .* had not arrived by the end of the drain.*\): running it once more\n\[1\/1\] short-poll-loopback-10mps-20c-r1-retry\n/);
    // the summary holds the second try, marked invalid; an invalid run is left out of the ranking
    expect(r.stdout).toMatch(/^short-poll-loopback-10mps-20c-r1-retry .* NO$/m);
    expect(r.stdout).not.toMatch(/^short-poll-loopback-10mps-20c-r1 /m);
    const ranking = JSON.parse(readFileSync(join(dir, 'ranking.json'), 'utf8')) as { cells: { ranking: { metrics: { ranked: { transport: string; n: number }[] }[] } }[] };
    expect(ranking.cells).toHaveLength(1);
    for (const m of ranking.cells[0].ranking.metrics) expect(m.ranked).toMatchObject([{ transport: 'short-poll', n: 0 }]);
    // invalid, not failed: rank itself succeeded (--assert is how a run's figures fail a command)
    expect(r.status).toBe(0);
  }, 60_000);
});
