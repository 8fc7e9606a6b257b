/**
 * A plan as Kubernetes objects: the plan in a ConfigMap, a headless Service naming the shards'
 * pods (their DNS names: a plan with a start barrier tells each shard shard 0's), and an Indexed Job whose completion index is the
 * shard index (`JOB_COMPLETION_INDEX`). Every choice serves the measurement: `backoffLimit: 0`
 * and `restartPolicy: Never` (a restarted shard would start late and count twice), requests =
 * limits (a Guaranteed pod is not throttled below what it asked for), required anti-affinity (two
 * shards on one node would share its CPUs and network), and a deadline so a stuck run ends.
 * Pure: the objects as plain data, for YAML or for a schema check.
 */
import type { Plan } from './plan.ts';
import { BARRIER_ENV, BARRIER_PORT } from './barrier.ts';
import { planSpanMs } from './shard.ts';

/** Where a shard's pod finds the plan and writes its record. */
export const PLAN_MOUNT = '/etc/pushbench';
export const RESULTS_MOUNT = '/results';

export interface K8sOptions {
  image: string;
  /** CPU per shard (Kubernetes quantity, e.g. `2`) and memory (e.g. `4Gi`): requests = limits */
  cpu: string;
  memory: string;
  /** the deadline covers the wait for startAt as seen when the manifest is made, the run and this margin, s */
  deadlineMarginS: number;
  /** when the manifest is made (ms since the epoch) */
  nowMs: number;
}

/** A Kubernetes name from the plan's: lower-case alphanumerics and '-', at most 52 characters (Job names take a pod suffix). */
export function k8sName(plan: Plan): string {
  const base = plan.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'pushbench';
  return `${base}-${plan.id.slice(0, 8)}`.replace(/^-/, 'p');
}

/** The container command a shard runs: the index comes from JOB_COMPLETION_INDEX. */
export function k8sCommand(): string[] {
  return ['pushbench', 'run', '--plan', `${PLAN_MOUNT}/plan.json`, '--out', RESULTS_MOUNT];
}

/** The three objects of a plan: ConfigMap, headless Service, Indexed Job. */
export function k8sObjects(plan: Plan, o: K8sOptions): Record<string, unknown>[] {
  const name = k8sName(plan);
  const labels = { 'app.kubernetes.io/name': 'pushbench', 'app.kubernetes.io/instance': name, 'pushbench.dev/plan': plan.id };
  // a barrier's start may come as late as its timeout after the pods start
  const waitS = Math.max(0, Math.ceil((Date.parse(plan.start.at) - o.nowMs) / 1000)) + Math.ceil((plan.start.barrier?.timeoutMs ?? 0) / 1000);
  const configMap = {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-plan`, labels },
    data: { 'plan.json': `${JSON.stringify(plan, null, 2)}\n` },
  };
  const service = {
    apiVersion: 'v1', kind: 'Service', metadata: { name, labels },
    spec: { clusterIP: 'None', selector: labels, publishNotReadyAddresses: true, ports: [{ name: 'barrier', port: BARRIER_PORT, targetPort: BARRIER_PORT }] },
  };
  const resources = { cpu: o.cpu, memory: o.memory };
  const job = {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, labels },
    spec: {
      completionMode: 'Indexed', completions: plan.shards, parallelism: plan.shards, backoffLimit: 0,
      activeDeadlineSeconds: waitS + Math.ceil(planSpanMs(plan) / 1000) + o.deadlineMarginS,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never', subdomain: name,
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] } },
          containers: [{
            name: 'shard', image: o.image, command: k8sCommand(),
            // shard 0's pod by its name under the headless Service (hostname <job>-0, subdomain <service>)
            env: [{ name: 'PUSHBENCH_PLAN_ID', value: plan.id }, ...(plan.start.barrier ? [{ name: BARRIER_ENV, value: `${name}-0.${name}:${BARRIER_PORT}` }] : [])],
            ports: [{ name: 'barrier', containerPort: BARRIER_PORT }],
            resources: { requests: resources, limits: resources },
            volumeMounts: [{ name: 'plan', mountPath: PLAN_MOUNT, readOnly: true }, { name: 'results', mountPath: RESULTS_MOUNT }],
          }],
          volumes: [{ name: 'plan', configMap: { name: `${name}-plan` } }, { name: 'results', emptyDir: {} }],
        },
      },
    },
  };
  return [configMap, service, job];
}
