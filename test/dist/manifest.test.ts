/**
 * The engines' manifests (`pushbench manifest`): the Kubernetes objects pass the Kubernetes API
 * schemas (kubernetes-models) and the workflow the GitHub Actions workflow schema
 * (@action-validator/core, SchemaStore's); then each engine is emulated — its exact command and
 * environment run once per index (JOB_COMPLETION_INDEX, resp. the matrix value), the volumes and
 * artifacts as folders — against a real reference server, and the shards' records merge.
 * Beside another file: the emulated shards wait for the plan's start on a timer, after a lead that
 * covers their process start (about 1 s) three times, so their start lag stays far under the 1 s
 * tolerance; their clock uncertainty comes from the smallest of 16 probe round trips before and
 * after the run (all 16 would have to be slowed) and is held to the run's p50
 * (maxUncertaintyShare 1), which a neighbour's load raises too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { validateWorkflow } from '@action-validator/core';
import type { Spawned } from '../../core/spawn.ts';
import { GENERATOR_V8_FLAGS } from '../../core/tsx.ts';
import { readResultFile } from '../../core/record.ts';
import { spawnReferenceServer } from '../../load/runner.ts';
import type { Plan, PlanRun } from '../../dist/plan.ts';
import { parseManifestArgs } from '../../cli/manifest-command.ts';
import { BARRIER_ENV, BARRIER_PORT } from '../../dist/barrier.ts';
import { main } from '../../cli/cli.ts';
import { runSettings } from '../load/settings.ts';
import { BIN } from '../cli.ts';
import { writePlan } from './shards.ts';

const dir = mkdtempSync(join(tmpdir(), 'pushbench-manifest-'));
const bin = join(dir, 'bin');
let server: Spawned;
let run: PlanRun;

/** `sh -c line` in `cwd` with `pushbench` on the PATH (as the image or the install step puts it) and `env` added. */
function shell(line: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stderr }); });
  });
}

const yamlDocs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
const made = (argv: string[]) => {
  const r = parseManifestArgs(argv);
  if (r === 'help') throw new Error('help');
  return r.yaml;
};

beforeAll(async () => {
  mkdirSync(bin);
  writeFileSync(join(bin, 'pushbench'), `#!/bin/sh\nexec "${process.execPath}" ${GENERATOR_V8_FLAGS.join(' ')} "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'pushbench'), 0o755);
  server = await spawnReferenceServer(runSettings('ws', ['--clients', '20', '--rate', '10']), 0);
  run = {
    transport: 'ws', workload: 'broadcast', clients: 20, durationMs: 1500, warmupMs: 500, ratePerS: 10, payloadBytes: 64,
    topics: 1, pollIntervalMs: 0, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, target: server.url,
  };
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('pushbench manifest: bad input', () => {
  it('lists every problem at once (exit 2)', async () => {
    const { file } = writePlan(dir, run, 2, 60_000);
    let problems: string[] = [];
    try { parseManifestArgs([file, '--engine', 'k8s', '--cpu', 'lots', '--memory', '4 GB']); } catch (err) { problems = (err as { problems: string[] }).problems; }
    expect(problems).toEqual([
      '--image is required with --engine k8s: the image with pushbench on its PATH',
      '--cpu must be a Kubernetes quantity like 2, 500m or 4Gi (got "lots")',
      '--memory must be a Kubernetes quantity like 2, 500m or 4Gi (got "4 GB")',
    ]);
    expect(await main(['manifest', join(dir, 'no-such-plan.json'), '--engine', 'swarm'])).toBe(2);
  });
});

describe('pushbench manifest --engine k8s', () => {
  it('a plan with a start barrier: every pod is told shard 0\'s name under the headless Service, and the port is open', () => {
    const b = join(dir, 'barrier');
    mkdirSync(b);
    const { plan, file } = writePlan(b, run, 3, 0, 1000, { timeoutMs: 120_000 });
    const [cm, svc, job] = yamlDocs(made([file, '--engine', 'k8s', '--image', 'ghcr.io/example/pushbench:1']));
    new ConfigMap(cm as never).validate();
    new Service(svc as never).validate();
    new Job(job as never).validate();
    const name = (job as { metadata: { name: string } }).metadata.name;
    const spec = (job as { spec: Record<string, any> }).spec;
    // pod hostnames of an Indexed Job are <job>-<index>; the subdomain is the headless Service
    expect(spec.template.spec.subdomain).toBe((svc as { metadata: { name: string } }).metadata.name);
    const [c] = spec.template.spec.containers;
    expect(c.env).toContainEqual({ name: BARRIER_ENV, value: `${name}-0.${name}:${BARRIER_PORT}` });
    expect(c.ports).toContainEqual({ name: 'barrier', containerPort: BARRIER_PORT });
    expect((svc as { spec: { ports: { port: number }[] } }).spec.ports.map((x) => x.port)).toEqual([BARRIER_PORT]);
    // the deadline covers the barrier's wait as well as the run
    expect(spec.activeDeadlineSeconds).toBeGreaterThanOrEqual(120 + plan.run.durationMs / 1000);
    // GitHub-hosted runners cannot reach shard 0
    expect(() => made([file, '--engine', 'gha'])).toThrow(/starts at a barrier/);
  });


  it('passes the Kubernetes API schemas, says what the measurement needs, and its Job run per index merges', async () => {
    const k = join(dir, 'k8s');
    mkdirSync(k);
    // 3.5 s ahead: two node processes load on two shared cores before the 1.5 s setup lead
    const { plan, file } = writePlan(k, run, 2, 3500);
    const [cm, svc, job] = yamlDocs(made([file, '--engine', 'k8s', '--image', 'ghcr.io/example/pushbench:1', '--cpu', '2', '--memory', '4Gi']));
    new ConfigMap(cm as never).validate();
    new Service(svc as never).validate();
    new Job(job as never).validate();
    // the validator is real: a Job with completions as text is refused
    expect(() => new Job({ ...(job as object), spec: { ...(job as { spec: object }).spec, completions: 'two' } } as never).validate()).toThrow();
    const spec = (job as { spec: Record<string, any> }).spec;
    expect(spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimit: 0 });
    expect(spec.activeDeadlineSeconds).toBeGreaterThan(plan.run.durationMs / 1000);
    const pod = spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    const [c] = pod.containers;
    expect(c.resources.requests).toEqual(c.resources.limits);
    expect((svc as { spec: { clusterIP: string } }).spec.clusterIP).toBe('None');
    // The engine, emulated: the ConfigMap and the emptyDir as folders at their mount paths, the
    // container's exact command and env, JOB_COMPLETION_INDEX set per pod.
    const mounts = new Map<string, string>();
    for (const m of c.volumeMounts as { name: string; mountPath: string }[]) {
      const at = join(k, m.name);
      mkdirSync(at);
      mounts.set(m.mountPath, at);
      const vol = pod.volumes.find((v: { name: string }) => v.name === m.name);
      if (vol.configMap) for (const [f, text] of Object.entries((cm as { data: Record<string, string> }).data)) writeFileSync(join(at, f), text);
    }
    const argv = (c.command as string[]).map((w) => [...mounts].reduce((x, [from, to]) => x.replace(from, to), w));
    const env = Object.fromEntries((c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const pods = await Promise.all([0, 1].map((i) => shell(argv.join(' '), k, { ...env, JOB_COMPLETION_INDEX: String(i) })));
    pods.forEach((p) => expect(p.status, p.stderr).toBe(0));
    const results = mounts.get('/results')!;
    expect(await main(['merge', file, results, '-o', join(k, 'merged'), '--assert', 'lost=0'])).toBe(0);
    expect(readResultFile(join(k, 'merged', 'scale-test.json')).shards?.shards.map((s) => s.index)).toEqual([0, 1]);
  }, 30_000);
});

describe('pushbench manifest --engine gha', () => {
  it('passes the Actions workflow schema, and its plan, matrix and merge jobs run as written', async () => {
    const g = join(dir, 'gha');
    mkdirSync(g);
    const { plan, file } = writePlan(g, run, 2, 60_000);
    // the plan job starts the run 4 s after it runs: two shard processes load before the setup lead
    const text = made([file, '--engine', 'gha', '--install', 'true', '--start-margin', '4s']);
    expect(validateWorkflow(text).errors).toEqual([]);
    expect(validateWorkflow(text.replace('runs-on: ubuntu-latest', 'runs-on: [')).errors.length).toBeGreaterThan(0);
    const [wf] = yamlDocs(text) as { jobs: Record<string, { steps: { name?: string; run?: string; env?: Record<string, string> }[]; strategy?: { matrix: { shard: number[] } } }> }[];
    const step = (job: string, name: string) => wf.jobs[job].steps.find((s) => s.name === name)!;
    const planDir = join(g, 'plan-job');
    mkdirSync(planDir);
    expect((await shell(step('plan', 'plan').run!, planDir)).status).toBe(0);
    const again = JSON.parse(readFileSync(join(planDir, 'plan.json'), 'utf8')) as Plan;
    // the plan made again is the same run; only its start (and so its id) moved
    expect({ ...again, id: '', start: { ...again.start, at: '' } }).toEqual({ ...plan, id: '', start: { ...plan.start, at: '' } });
    const matrix = wf.jobs.shard.strategy!.matrix.shard;
    expect(matrix).toEqual([0, 1]);
    const shardStep = step('shard', 'shard');
    const outs = await Promise.all(matrix.map(async (i) => {
      const cwd = join(g, `shard-${i}`);
      mkdirSync(cwd);
      copyFileSync(join(planDir, 'plan.json'), join(cwd, 'plan.json'));
      const env = Object.fromEntries(Object.entries(shardStep.env ?? {}).map(([k2, v]) => [k2, v.replace('${{ matrix.shard }}', String(i))]));
      return { cwd, ...(await shell(shardStep.run!, cwd, env)) };
    }));
    outs.forEach((o) => expect(o.status, o.stderr).toBe(0));
    const mergeDir = join(g, 'merge-job');
    mkdirSync(join(mergeDir, 'results'), { recursive: true });
    copyFileSync(join(planDir, 'plan.json'), join(mergeDir, 'plan.json'));
    for (const o of outs) for (const f of readdirSync(join(o.cwd, 'results'))) copyFileSync(join(o.cwd, 'results', f), join(mergeDir, 'results', f));
    expect((await shell(step('merge', 'merge').run!, mergeDir)).status).toBe(0);
    const m = readResultFile(join(mergeDir, 'merged', 'scale-test.json'));
    expect(m.shards?.shards.map((s) => s.index)).toEqual([0, 1]);
    expect(m.summary.lost).toBe(0);
  }, 30_000);
});
