import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { GENERATOR_V8_FLAGS } from './core/tsx.ts';
import { aloneReason, heavyReason, testFiles } from './test/lanes.ts';
import SizeSequencer from './test/sequencer.ts';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const files = testFiles(ROOT);
const alone = files.filter((f) => aloneReason(join(ROOT, f)) !== null);
const heavy = files.filter((f) => !alone.includes(f) && heavyReason(join(ROOT, f)) !== null);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files run load in-process (runOnce): give them the generator's V8 flags, as the
    // pushbench command has, so tests measure the configuration users run.
    pool: 'forks',
    // Processes live through all their lane's files (isolate: false): a fork and a fresh module
    // graph per file cost ~0.3 s each. test/setup.ts gives each file every CPU again (a run pins
    // its own process).
    poolOptions: { forks: { execArgv: [...GENERATOR_V8_FLAGS], isolate: false } },
    // Two processes for a plain `vitest run`: a third beside them shares the CPUs three ways and a
    // run's generator falls behind when two heavy files meet (docs/testing.md). `npm test`
    // (scripts/test.mjs) runs the heavy lane in a process of its own beside one light one.
    // minWorkers = maxWorkers: with fewer, vitest 3.2 ends idle forks between the lanes and
    // tinypool's "Terminating worker thread" rejection ended a run.
    maxWorkers: 2,
    minWorkers: 2,
    setupFiles: ['test/setup.ts'],
    // an assertion's message keeps what it compared (an invalid run's reasons, not "generator fell
    // behind: worker 0 event…"): the test runner's summary and a CI log's tail show it
    chaiConfig: { truncateThreshold: 1000 },
    sequence: { sequencer: SizeSequencer },
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-results.json' },
    // Three lanes (test/lanes.ts): files that check counts and validity at small loads, heavy and
    // light (under `vitest run` together, two at a time); then the files whose time, CPU or memory
    // bounds another file's load would move, alone. Each lane sets its own exclude: vitest's
    // default one drops every dist/ folder, and test/dist/ holds the scale-out's tests.
    projects: [
      {
        extends: true,
        test: { name: 'heavy', include: heavy, exclude: [], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'light', include: ['test/**/*.test.ts'], exclude: [...alone, ...heavy], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: alone, exclude: [], poolOptions: { forks: { singleFork: true } }, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
