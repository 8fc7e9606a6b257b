/**
 * The engines' manifests (`pushbench manifest`): the Kubernetes objects pass the Kubernetes API
 * schemas (kubernetes-models) and the workflow the GitHub Actions workflow schema
 * (@action-validator/core, SchemaStore's); then each engine is emulated — its exact command and
 * environment run once per index (JOB_COMPLETION_INDEX, resp. the matrix value), the volumes and
 * artifacts as folders — against a real reference server, and the shards' records merge; both
 * engines' shards run at once, on one start.
 * Beside another file: the emulated shards wait for the plan's start on a timer, after a lead that
 * covers their process start, so their start lag stays far under the 1 s tolerance; their clock
 * uncertainty comes from the smallest of 16 probe round trips before and after the run (all 16
 * would have to be slowed) and is held to the run's p50 (maxUncertaintyShare 1), which a
 * neighbour's load raises too.
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
import { writePlan, SHARD_TEST_SERVER_DELAY_MS } from './shards.ts';

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
  server = await spawnReferenceServer(runSettings('ws', ['--clients', '20', '--rate', '10', '--delay', String(SHARD_TEST_SERVER_DELAY_MS)]), 0);
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
});

/**
 * Both engines emulated at once, on one start: the gha plan job makes its plan first, the k8s plan
 * takes the same start, then all four shard processes run together. Sharing the start, every shard
 * probes the target's clock while all of them wait and loads its workers when the others do
 * (dist/shard.ts), never during another's probe. The start is 5 s after the plan job runs: four
 * node processes load on two shared cores (about 1 s each, two to a core) before the clock probe
 * 2 s ahead of the start.
 */
describe('the engines emulated', () => {
  const k = join(dir, 'k8s');
  const g = join(dir, 'gha');
  type Step = { name?: string; run?: string; env?: Record<string, string> };
  type Workflow = { jobs: Record<string, { steps: Step[]; strategy?: { matrix: { shard: number[] } } }> };
  let k8s: { plan: Plan; file: string; docs: Record<string, unknown>[]; pods: { status: number | null; stderr: string }[] };
  let gha: { plan: Plan; text: string; wf: Workflow; planJob: { status: number | null; stderr: string }; again: Plan; planDir: string; outs: { cwd: string; status: number | null; stderr: string }[] };
  const step = (job: string, name: string) => gha.wf.jobs[job].steps.find((s) => s.name === name)!;
  /** the k8s pod's mount paths, each at a folder of its own */
  const mounts = new Map<string, string>();

  beforeAll(async () => {
    mkdirSync(k);
    mkdirSync(g);
    const given = writePlan(g, run, 2, 60_000);
    const text = made([given.file, '--engine', 'gha', '--install', 'true', '--start-margin', '5s']);
    const [wf] = yamlDocs(text) as Workflow[];
    gha = { plan: given.plan, text, wf, planJob: { status: null, stderr: '' }, again: given.plan, planDir: join(g, 'plan-job'), outs: [] };
    mkdirSync(gha.planDir);
    gha.planJob = await shell(step('plan', 'plan').run!, gha.planDir);
    if (gha.planJob.status !== 0) throw new Error(`the plan job failed: ${gha.planJob.stderr}`);
    gha.again = JSON.parse(readFileSync(join(gha.planDir, 'plan.json'), 'utf8')) as Plan;
    const { plan, file } = writePlan(k, run, 2, Date.parse(gha.again.start.at) - Date.now());
    const docs = yamlDocs(made([file, '--engine', 'k8s', '--image', 'ghcr.io/example/pushbench:1', '--cpu', '2', '--memory', '4Gi']));
    k8s = { plan, file, docs, pods: [] };
    // k8s, emulated: the ConfigMap and the emptyDir as folders at their mount paths, the
    // container's exact command and env, JOB_COMPLETION_INDEX set per pod
    const [cm, , job] = docs;
    const pod = (job as { spec: Record<string, any> }).spec.template.spec;
    const [c] = pod.containers;
    for (const m of c.volumeMounts as { name: string; mountPath: string }[]) {
      const at = join(k, m.name);
      mkdirSync(at);
      mounts.set(m.mountPath, at);
      const vol = pod.volumes.find((v: { name: string }) => v.name === m.name);
      if (vol.configMap) for (const [f, t] of Object.entries((cm as { data: Record<string, string> }).data)) writeFileSync(join(at, f), t);
    }
    const argv = (c.command as string[]).map((w) => [...mounts].reduce((x, [from, to]) => x.replace(from, to), w));
    const env = Object.fromEntries((c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    // gha, emulated: the shard job once per matrix value, each with the plan job's plan.json
    const shardStep = step('shard', 'shard');
    [k8s.pods, gha.outs] = await Promise.all([
      Promise.all([0, 1].map((i) => shell(argv.join(' '), k, { ...env, JOB_COMPLETION_INDEX: String(i) }))),
      Promise.all(wf.jobs.shard.strategy!.matrix.shard.map(async (i) => {
        const cwd = join(g, `shard-${i}`);
        mkdirSync(cwd);
        copyFileSync(join(gha.planDir, 'plan.json'), join(cwd, 'plan.json'));
        const shardEnv = Object.fromEntries(Object.entries(shardStep.env ?? {}).map(([k2, v]) => [k2, v.replace('${{ matrix.shard }}', String(i))]));
        return { cwd, ...(await shell(shardStep.run!, cwd, shardEnv)) };
      })),
    ]);
  }, 40_000);

  it('k8s: passes the Kubernetes API schemas, says what the measurement needs, and its Job run per index merges', async () => {
    const [cm, svc, job] = k8s.docs;
    new ConfigMap(cm as never).validate();
    new Service(svc as never).validate();
    new Job(job as never).validate();
    // the validator is real: a Job with completions as text is refused
    expect(() => new Job({ ...(job as object), spec: { ...(job as { spec: object }).spec, completions: 'two' } } as never).validate()).toThrow();
    const spec = (job as { spec: Record<string, any> }).spec;
    expect(spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimit: 0 });
    expect(spec.activeDeadlineSeconds).toBeGreaterThan(k8s.plan.run.durationMs / 1000);
    const pod = spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    const [c] = pod.containers;
    expect(c.resources.requests).toEqual(c.resources.limits);
    expect((svc as { spec: { clusterIP: string } }).spec.clusterIP).toBe('None');
    k8s.pods.forEach((p) => expect(p.status, p.stderr).toBe(0));
    const results = mounts.get('/results')!;
    expect(await main(['merge', k8s.file, results, '-o', join(k, 'merged'), '--assert', 'lost=0'])).toBe(0);
    expect(readResultFile(join(k, 'merged', 'scale-test.json')).shards?.shards.map((s) => s.index)).toEqual([0, 1]);
  });

  it('gha: passes the Actions workflow schema, and its plan, matrix and merge jobs run as written', async () => {
    expect(validateWorkflow(gha.text).errors).toEqual([]);
    expect(validateWorkflow(gha.text.replace('runs-on: ubuntu-latest', 'runs-on: [')).errors.length).toBeGreaterThan(0);
    expect(gha.planJob.status).toBe(0);
    // the plan made again is the same run; only its start (and so its id) moved
    const { again, plan } = gha;
    expect({ ...again, id: '', start: { ...again.start, at: '' } }).toEqual({ ...plan, id: '', start: { ...plan.start, at: '' } });
    expect(gha.wf.jobs.shard.strategy!.matrix.shard).toEqual([0, 1]);
    gha.outs.forEach((o) => expect(o.status, o.stderr).toBe(0));
    const mergeDir = join(g, 'merge-job');
    mkdirSync(join(mergeDir, 'results'), { recursive: true });
    copyFileSync(join(gha.planDir, 'plan.json'), join(mergeDir, 'plan.json'));
    for (const o of gha.outs) for (const f of readdirSync(join(o.cwd, 'results'))) copyFileSync(join(o.cwd, 'results', f), join(mergeDir, 'results', f));
    expect((await shell(step('merge', 'merge').run!, mergeDir)).status).toBe(0);
    const m = readResultFile(join(mergeDir, 'merged', 'scale-test.json'));
    expect(m.shards?.shards.map((s) => s.index)).toEqual([0, 1]);
    expect(m.summary.lost).toBe(0);
  }, 20_000);
});
