import { defineConfig } from 'vitest/config';
import { GENERATOR_V8_FLAGS } from './core/tsx.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Load tests share 2 cores; running files one at a time keeps their numbers honest.
    fileParallelism: false,
    // Test files run load in-process (runOnce): give them the generator's V8 flags, as the
    // pushbench command has, so tests measure the configuration users run.
    pool: 'forks',
    poolOptions: { forks: { execArgv: [...GENERATOR_V8_FLAGS] } },
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-results.json' },
  },
});
