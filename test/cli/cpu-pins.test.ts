/**
 * Where a run's pinning comes from: --server-cpus / --load-cpus, else their environment defaults
 * (PUSHBENCH_SERVER_CPUS / PUSHBENCH_LOAD_CPUS, as a CI runner or a test lane sets them once), else
 * the machine's default split; a bad value from either is listed, named by where it came from,
 * before any work (exit 2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CPU_ENV, cpuPins } from '../../cli/run-options.ts';
import { defaultCpuSplit } from '../../load/runner.ts';
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import { BIN } from '../cli.ts';

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.values(CPU_ENV)) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

function pins(values: Record<string, string>, env: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const problems: string[] = [];
  return { ...cpuPins(values, problems), problems };
}

describe('run pinning', () => {
  it('takes the options, else the environment, else the default split', () => {
    const none = { PUSHBENCH_SERVER_CPUS: undefined, PUSHBENCH_LOAD_CPUS: undefined };
    expect(pins({}, none)).toEqual({ ...defaultCpuSplit(), problems: [] });
    expect(pins({}, { PUSHBENCH_SERVER_CPUS: '1', PUSHBENCH_LOAD_CPUS: '0' })).toEqual({ serverCpus: '1', loadCpus: '0', problems: [] });
    expect(pins({ loadCpus: '1' }, { PUSHBENCH_SERVER_CPUS: '1', PUSHBENCH_LOAD_CPUS: '0' })).toEqual({ serverCpus: '1', loadCpus: '1', problems: [] });
  });

  it('names the source of a bad list: the option or the variable', () => {
    const r = pins({ serverCpus: 'x' }, { PUSHBENCH_SERVER_CPUS: '0', PUSHBENCH_LOAD_CPUS: '0,,1' });
    expect(r.problems).toEqual(['--server-cpus must be a CPU list like 0, 1-3 or 0,2 (got "x")', 'PUSHBENCH_LOAD_CPUS must be a CPU list like 0, 1-3 or 0,2 (got "0,,1")']);
  });

  it('pushbench run lists bad environment defaults with the other problems, exit 2', () => {
    const r = spawnSync(process.execPath, [...GENERATOR_V8_FLAGS, BIN, 'run', '--transport', 'ws', '--clients', '0'], {
      encoding: 'utf8', env: { ...process.env, PUSHBENCH_SERVER_CPUS: '9999', PUSHBENCH_LOAD_CPUS: 'one' }, timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('PUSHBENCH_SERVER_CPUS names CPU 9999');
    expect(r.stderr).toContain('PUSHBENCH_LOAD_CPUS must be a CPU list');
    expect(r.stderr).toContain('--clients');
  });
});
