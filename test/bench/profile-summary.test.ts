/**
 * profile:summary on real V8 profiles, not hand-made ones: the busy function must come out as the
 * top site of a CPU profile (written by node --cpu-prof), and the allocating one of a heap profile
 * (this process, through the inspector).
 *
 * Runs alone: the busiest function of a real CPU profile must come out on top.
 */
import { Session } from 'node:inspector';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, parseArgs, summarizeFile, summarizeHeapProfile } from '../../bench/profile-summary.ts';

function post<T>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));
}

/**
 * A script that spends 300 ms in one function and 60 ms in each of two others. It runs in a
 * child of its own under `--cpu-prof`, as profiled benches do: this process is shared by every
 * test file, and whatever they left running would share the profile.
 */
const SPIN_SCRIPT = `
function spinForProfileTest(ms) { let x = 0; const end = Date.now() + ms; while (Date.now() < end) for (let i = 0; i < 1000; i++) x = (x * 31 + i) | 0; return x; }
function spinTooForProfileTest(ms) { let x = 1; const end = Date.now() + ms; while (Date.now() < end) for (let i = 0; i < 1000; i++) x = (x * 17 + i) | 0; return x; }
function spinThreeForProfileTest(ms) { let x = 2; const end = Date.now() + ms; while (Date.now() < end) for (let i = 0; i < 1000; i++) x = (x * 13 + i) | 0; return x; }
spinForProfileTest(300); spinTooForProfileTest(60); spinThreeForProfileTest(60);
`;

/** The summary of a CPU profile of {@link SPIN_SCRIPT}, sampled every 0.2 ms. */
function profiledSpin(): ReturnType<typeof summarizeFile> {
  const dir = mkdtempSync(join(tmpdir(), 'pushbench-profile-'));
  writeFileSync(join(dir, 'spin.mjs'), SPIN_SCRIPT);
  execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200', join(dir, 'spin.mjs')]);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  return summarizeFile(join(dir, file));
}

function allocateForProfileTest(n: number): number {
  let kept = 0;
  for (let i = 0; i < n; i++) kept += new Array(64).fill(i).length;
  return kept;
}

describe('profile:summary', () => {
  it('reads its command line: one file alone, --top anywhere, every problem at once', () => {
    expect(parseArgs(['a.cpuprofile'])).toEqual({ files: ['a.cpuprofile'], top: 25, problems: [] });
    expect(parseArgs(['a.cpuprofile', '--top', '5', 'b.heapprofile'])).toEqual({ files: ['a.cpuprofile', 'b.heapprofile'], top: 5, problems: [] });
    expect(parseArgs(['--top', '0', 'x.json']).problems).toEqual(['--top must be a whole number above 0 (got "0")', 'x.json: not a .cpuprofile or .heapprofile']);
    expect(parseArgs([]).problems).toEqual(['give one or more .cpuprofile / .heapprofile files']);
  });

  it('puts the busy function first in a CPU profile, as a share of busy time', () => {
    const s = profiledSpin();
    // 300 ms in the one, 60 ms in each other, ~50 ms of node's own start: sampled every 0.2 ms,
    // each has hundreds of samples, the first over half of the busy time
    expect(s.sites[0].site).toMatch(/^spinForProfileTest .*spin\.mjs:\d+$/);
    expect(s.sites[0].share, `sites: ${JSON.stringify(s.sites.slice(0, 5))}, busy ${s.total} µs`).toBeGreaterThan(0.5);
    expect(s.sites.length).toBeGreaterThanOrEqual(3);
    // the busy time holds the spins (sampled, so within a margin), and the shares add up to it
    expect(s.total).toBeGreaterThan(350_000);
    expect(s.sites.reduce((a, x) => a + x.share, 0)).toBeCloseTo(1, 6);
    // a heading, a blank line, the table's two header lines, then one row per site up to `top`
    const lines = formatSummary('t', s, 3).split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[4]).toContain('spinForProfileTest');
    expect(lines.slice(5).join('\n')).toMatch(/spinTooForProfileTest|spinThreeForProfileTest/);
    expect(formatSummary('t', s, 1).split('\n')).toHaveLength(5);
  });

  it('puts the allocating function first in a heap profile, with its caller', async () => {
    const session = new Session();
    session.connect();
    try {
      await post(session, 'HeapProfiler.enable');
      await post(session, 'HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      allocateForProfileTest(200_000);
      const { profile } = await post<{ profile: Parameters<typeof summarizeHeapProfile>[0] }>(session, 'HeapProfiler.stopSampling');
      const s = summarizeHeapProfile(profile);
      const top = s.sites.find((x) => x.site.startsWith('allocateForProfileTest'));
      expect(top).toBeDefined();
      // 200,000 arrays of 64 elements: well over 50 MB; the sampled total sees most of it
      expect(top!.amount).toBeGreaterThan(50e6);
      expect(top!.share).toBeGreaterThan(0.5);
      expect(top!.from).toMatch(/ \d+ %$/);
    } finally {
      session.disconnect();
    }
  });
});
