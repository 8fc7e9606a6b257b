/**
 * Around each test file. The files of a lane share one process (vitest.config.ts, isolate: false):
 * - under `npm test`, the light lane's second worker first waits for the heavy lane's end;
 * - before: every CPU again for this process (a run pins its own process to the load CPUs, and
 *   a file must not inherit the pinning of the one before it);
 * - after: a warning naming what the file left running (timers, sockets, servers), which would
 *   otherwise run on into the next files' measurements.
 */
import { afterAll, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { cpuCount } from '../load/resources.ts';
import { pinSelf } from '../core/spawn.ts';
import { GENERATOR_V8_FLAGS } from '../core/tsx.ts';

let before = new Map<string, number>();

function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

// process.stdin, .stdout and .stderr are opened on first use (pipes under vitest): open them now,
// so a file that merely reads, writes or spies on them is not said to have left a pipe running.
void process.stdout;
void process.stderr;
void process.stdin;

// Under `npm test` the light lane has two workers, but its second may start only once the heavy
// lane beside it is done (scripts/test.mjs): three files at once starve a heavy run. Waiting
// here, before the file is collected, keeps the wait out of the file's own time.
const secondSlotAfter = process.env.PUSHBENCH_TEST_SECOND_SLOT_AFTER;
if (secondSlotAfter && process.env.VITEST_POOL_ID !== '1') {
  while (!existsSync(secondSlotAfter)) await new Promise((r) => setTimeout(r, 200));
}

beforeAll(() => {
  // vitest.config.ts gives both lanes' processes the generator's V8 flags; a file measured without
  // them would measure another configuration than users run.
  const missing = GENERATOR_V8_FLAGS.filter((f) => !process.execArgv.includes(f));
  if (missing.length > 0) throw new Error(`test process started without the generator's V8 flags ${missing.join(' ')} (vitest.config.ts)`);
  pinSelf(`0-${cpuCount() - 1}`);
  before = resources();
});

/** What is running now beyond what ran before the file. */
function leftOver(): string[] {
  return [...resources()].filter(([r, n]) => n > (before.get(r) ?? 0)).map(([r, n]) => `${n - (before.get(r) ?? 0)} × ${r}`);
}

afterAll(async () => {
  // sockets and children a file closed may take a few event-loop turns to go
  for (let waited = 0; leftOver().length > 0 && waited < 1000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  const left = leftOver();
  if (left.length > 0) console.warn(`test/setup.ts: this file left running: ${left.join(', ')}`);
});
