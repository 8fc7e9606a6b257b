import { configDefaults, defineConfig } from 'vitest/config';
import { GENERATOR_V8_FLAGS } from './core/tsx.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // vitest leaves out every dist/ folder by default; test/dist/ holds the scale-out's tests.
    exclude: configDefaults.exclude.filter((x) => !x.includes('dist')),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Load tests share 2 cores; running files one at a time keeps their numbers honest.
    fileParallelism: false,
    // Test files run load in-process (runOnce): give them the generator's V8 flags, as the
    // pushbench command has, so tests measure the configuration users run.
    pool: 'forks',
    // One process for every file (isolate: false): a fork and a fresh module graph per file cost
    // ~0.3 s each. test/setup.ts gives each file every CPU again (a run pins its own process).
    poolOptions: { forks: { execArgv: [...GENERATOR_V8_FLAGS], isolate: false } },
    setupFiles: ['test/setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-results.json' },
  },
});
