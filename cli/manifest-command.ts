/**
 * `pushbench manifest PLAN --engine k8s|gha`: the objects an engine needs to run a plan's shards
 * together, as YAML on stdout (or `-o FILE`, atomically): for Kubernetes a ConfigMap, a headless
 * Service and an Indexed Job (dist/manifest-k8s.ts); for GitHub Actions a workflow of plan,
 * shard matrix and merge (dist/manifest-gha.ts). Every option is validated first (exit 2).
 */
import { stringify } from 'yaml';
import { validationError } from '../core/errors.ts';
import { formatHelp, parseOptions, type OptionSpec } from '../core/options.ts';
import { writeTextAtomic } from '../core/record.ts';
import { PUSHBENCH_VERSION } from '../core/version.ts';
import { ghaWorkflow } from '../dist/manifest-gha.ts';
import { k8sObjects } from '../dist/manifest-k8s.ts';
import { readPlan, type Plan } from '../dist/plan.ts';

const QUANTITY_RE = /^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

export const MANIFEST_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'engine', kind: 'string', arg: 'NAME', help: 'k8s: ConfigMap + headless Service + Indexed Job; gha: a GitHub Actions workflow (required)', choices: ['k8s', 'gha'] },
  { name: 'image', kind: 'string', arg: 'IMAGE', help: 'k8s: the container image with pushbench on its PATH (required with k8s)' },
  { name: 'cpu', kind: 'string', arg: 'QTY', help: 'k8s: CPU of each shard\'s pod (requests = limits)', default: '2' },
  { name: 'memory', kind: 'string', arg: 'QTY', help: 'k8s: memory of each shard\'s pod (requests = limits)', default: '4Gi' },
  { name: 'deadline-margin', kind: 'durationMs', arg: 'TIME', help: 'k8s: activeDeadlineSeconds is the wait for the start, the run and this', default: 300_000, min: 0 },
  { name: 'install', kind: 'string', arg: 'CMD', help: 'gha: the step that puts pushbench on the PATH', default: `npm install --global pushbench@${PUSHBENCH_VERSION}` },
  { name: 'start-margin', kind: 'durationMs', arg: 'TIME', help: 'gha: the plan job starts the run this long after it runs (matrix jobs wait for runners)', default: 180_000, min: 1000 },
  { name: 'out', short: 'o', kind: 'string', arg: 'FILE', help: 'write here (default: stdout)' },
]);

const MANIFEST_USAGE = 'pushbench manifest PLAN --engine k8s --image IMAGE [--cpu 2] [--memory 4Gi] | --engine gha [--install CMD] [-o FILE]';
const MANIFEST_DESCRIPTION = `Writes what an engine needs to run a plan's shards together (docs/scale-out.md):
  k8s: the plan in a ConfigMap, a headless Service and an Indexed Job (completions = parallelism =
       shards, backoffLimit 0, restartPolicy Never, requests = limits, one shard per node);
       kubectl apply -f it soon after making it (the plan's start is absolute);
  gha: a workflow: a plan job (the plan made again, its start --start-margin after it runs), a
       matrix job per shard, and a merge job.`;

/** Parse and validate; the YAML to write and where (undefined: stdout). Throws PB_BAD_OPTION with every problem. */
export function parseManifestArgs(argv: string[], nowMs = Date.now()): { yaml: string; out: string | undefined } | 'help' {
  const parsed = parseOptions(argv, MANIFEST_OPTION_SPECS);
  if (parsed.help) return 'help';
  const v = parsed.values;
  const problems = [...parsed.problems];
  const [file, ...extra] = parsed.positionals;
  if (extra.length) problems.push(`unexpected argument(s): ${extra.join(' ')}`);
  let plan: Plan | undefined;
  if (file === undefined) problems.push('no plan given: pushbench manifest PLAN --engine k8s|gha');
  else {
    try { plan = readPlan(file); } catch (err) {
      const e = err as { problems?: string[]; message: string };
      problems.push(...(e.problems?.length ? e.problems.map((p) => `plan ${file}: ${p}`) : [e.message]));
    }
  }
  if (v.engine === undefined && !problems.some((p) => p.startsWith('--engine'))) problems.push('--engine is required (k8s or gha)');
  if (v.engine === 'gha' && plan?.start.barrier) problems.push('the plan starts at a barrier, which needs the shards to reach shard 0; GitHub-hosted runners cannot reach each other: make the plan with --start at, or use --engine k8s');
  if (v.engine === 'k8s' && !v.image) problems.push('--image is required with --engine k8s: the image with pushbench on its PATH');
  for (const k of ['cpu', 'memory'] as const) if (!QUANTITY_RE.test(v[k] as string)) problems.push(`--${k} must be a Kubernetes quantity like 2, 500m or 4Gi (got "${v[k] as string}")`);
  if (problems.length || !plan) throw validationError(problems);
  const docs = v.engine === 'k8s'
    ? k8sObjects(plan, { image: v.image as string, cpu: v.cpu as string, memory: v.memory as string, deadlineMarginS: Math.ceil((v.deadlineMargin as number) / 1000), nowMs })
    : [ghaWorkflow(plan, { install: v.install as string, startMarginS: Math.ceil((v.startMargin as number) / 1000), timeoutMarginMin: 10 })];
  return { yaml: docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'), out: v.out as string | undefined };
}

export async function manifestCommand(argv: string[]): Promise<number> {
  const parsed = parseManifestArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(formatHelp(MANIFEST_USAGE, MANIFEST_DESCRIPTION, MANIFEST_OPTION_SPECS));
    return 0;
  }
  if (parsed.out === undefined) process.stdout.write(parsed.yaml);
  else writeTextAtomic(parsed.out, parsed.yaml);
  return 0;
}
