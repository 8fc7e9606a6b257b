/**
 * bench:in-place — the in-run alternation behind the README's "measured in place" figures: its
 * arithmetic, its validation, that the worker hook is off unless asked for, and one real run whose
 * workers alternate (both sides ran, the run's deliveries untouched).
 *
 * Runs alone: a real run whose workers alternate variants, timed by the bench.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { compareSlots, main } from '../../bench/in-place.ts';
import { startInPlace } from '../../load/in-place.ts';
import { ContractCodec } from '../../load/drivers/codec.ts';

describe('bench:in-place', () => {
  it('compares the sides pair by pair: B ÷ A with the standard error of the pairs\' differences', () => {
    const flat = compareSlots([0.5, 0.5, 0.5], [0.55, 0.55, 0.55])!;
    expect(flat.n).toBe(3);
    expect(flat.ratio).toBeCloseTo(1.1, 12);
    expect(flat.se).toBeCloseTo(0, 12);
    const noisy = compareSlots([0.4, 0.6], [0.5, 0.5])!;
    expect(noisy.ratio).toBeCloseTo(1, 12);
    // differences +0.1 and −0.1: sd 0.141, over √2 pairs 0.1, over mean A 0.5
    expect(noisy.se).toBeCloseTo(0.2, 12);
    // a drift from 30 % to 70 % busy that falls on both slots of each pair cancels
    const drift = compareSlots([0.3, 0.5, 0.7], [0.33, 0.55, 0.77])!;
    expect(drift.ratio).toBeCloseTo(1.1, 12);
    expect(drift.se).toBeCloseTo(0.02 / Math.sqrt(3) / 0.5, 12);
    expect(compareSlots([0.5], [0.5])).toBeNull();
    expect(compareSlots([0, 0], [0.5, 0.6])).toBeNull();
  });

  it('leaves the frame handler alone unless its variable is set', () => {
    const proto = ContractCodec.prototype as unknown as { text: () => boolean };
    const before = proto.text;
    const saved = process.env.PUSHBENCH_IN_PLACE_VARIANT;
    delete process.env.PUSHBENCH_IN_PLACE_VARIANT;
    try {
      startInPlace();
    } finally {
      if (saved !== undefined) process.env.PUSHBENCH_IN_PLACE_VARIANT = saved;
    }
    expect(proto.text).toBe(before);
  });

  it('lists every problem at once and exits 2', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await main(['--variant', 'third-read', '--', '--transport', 'sse', '--clients', '-3', '--name', 'x']);
      expect(code).toBe(2);
      const text = err.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toMatch(/--variant must be one of aa, second-read, second-clock, second-delivery/);
      expect(text).toMatch(/--clients/);
      expect(text).toMatch(/use --transport ws/);
      expect(text).toMatch(/--name is set by bench:in-place/);
    } finally {
      err.mockRestore();
    }
  });

  it('alternates the workers between the delivery path and the variant inside one run', async () => {
    mkdirSync('.tmp', { recursive: true });
    const outDir = mkdtempSync(join('.tmp', 'in-place-test-'));
    const lines: string[] = [];
    const so = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (lines.push(String(c)), true));
    const se = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      // A worker's slots start with its task, 150 ms before t0, in pairs of 500 ms; with no skip a
      // pair is kept once 1 s has passed, so the pairs ending 2 s and 3 s in are kept and in the
      // slots file written 4 s in, which a 4 s run's worker (alive t0 − 150 ms … t0 + 4 s + its
      // drain) reaches: two pairs, the fewest that give a ratio and its error.
      code = await main(['--variant', 'second-read', '--skip', '0s', '--out', outDir, '--', '--transport', 'ws', '--clients', '50', '--topics', '1', '--rate', '20', '--duration', '4s', '--warmup', '1s']);
    } finally {
      so.mockRestore();
      se.mockRestore();
    }
    expect(code).toBe(0);
    const [runDir] = readdirSync(outDir);
    const slotFiles = readdirSync(join(outDir, runDir, 'slots'));
    expect(slotFiles).toHaveLength(1); // one worker thread
    const slots = JSON.parse(readFileSync(join(outDir, runDir, 'slots', slotFiles[0]), 'utf8'));
    expect(slots.variant).toBe('second-read');
    expect(slots.a.length).toBeGreaterThan(0);
    expect(slots.b.length).toBeGreaterThan(0);
    expect(slots.framesB).toBeGreaterThan(0);
    const record = JSON.parse(readFileSync(join(outDir, runDir, readdirSync(join(outDir, runDir)).find((f) => f.endsWith('.json'))!), 'utf8'));
    // the wrapper delivers every frame as before: nothing lost, every delivery seen by it
    expect(record.summary.lost).toBe(0);
    expect(record.summary.delivered).toBeGreaterThan(0);
    expect(slots.framesA + slots.framesB).toBeGreaterThanOrEqual(record.summary.delivered * 0.75); // the slots file is rewritten each second: the last one may be missing
    const text = lines.join('');
    expect(text).toMatch(/\| second-read \| \d+ \| [\d,]+ \/ [\d,]+ \|/);
    expect(text).toMatch(/\*\*\d+\.\d{3}\*\* ± \d+\.\d{3}/);
    rmSync(outDir, { recursive: true, force: true });
  }, 60_000);
});
