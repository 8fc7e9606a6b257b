/**
 * The generator's live metrics (`--metrics-port`): a prom-client registry that the runner's main
 * thread updates once a second from what it already receives — each worker's tick (its counts so
 * far and its second's deliveries in the latency buckets) and the sampler's progress — and once more at
 * the end from the workers' results. Nothing here runs per delivery, and nothing in a worker
 * thread changes with metrics on or off.
 *
 * Every run series carries `run`, `transport` and `shard` (a multi-process generator's process
 * index; 0 in one process). docs/metrics.md lists every metric and what it counts; in short:
 * counters only increase (each is a sum of the ticks' deltas), and at the end they equal the
 * record — deliveries and duplicates of the measured window(s), connects over the whole run —
 * summed over shards. `pushbench_lost_messages` is a gauge: a late message can fill a gap the
 * window was charged for.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { judgeLoop } from './starvation.ts';
import { LATENCY_BUCKETS_S } from './latency-buckets.ts';
import { BucketHistogram } from './metrics-histogram.ts';
import type { MetricsSink, RunLabels, RunMetrics } from './metrics-sink.ts';
import type { Progress } from './progress.ts';
import type { RunTotals, WorkerResult, WorkerTick } from './worker-task.ts';

export type { MetricsSink, RunLabels, RunMetrics } from './metrics-sink.ts';

const PHASES: readonly Progress['phase'][] = ['ramp', 'warmup', 'measure', 'drain'];
const RUN = ['run', 'transport', 'shard'] as const;
type RunLabel = (typeof RUN)[number];

/** The registry and its metric families; one per generator command. */
export class GeneratorMetrics implements MetricsSink {
  readonly registry = new Registry();
  private readonly runs = new Map<string, RunSeries>();
  readonly m;

  constructor() {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers });
    this.m = {
      deliveries: counter('pushbench_deliveries_total', 'Deliveries of messages scheduled inside a measured window (the record\'s delivered)', RUN),
      duplicates: counter('pushbench_duplicates_total', 'Messages of a measured window received more than once', RUN),
      errors: counter('pushbench_errors_total', 'Client errors by code (connect failures, protocol errors, stalled streams)', [...RUN, 'code']),
      connects: counter('pushbench_connects_total', 'Connections opened over the whole run, reconnects included', RUN),
      reconnects: counter('pushbench_reconnects_total', 'Lost connections a client reconnected after', RUN),
      requests: counter('pushbench_requests_total', 'HTTP requests sent inside a measured window (polling transports)', RUN),
      lost: gauge('pushbench_lost_messages', 'Messages of the measured window(s) missing so far; goes down when a late message fills a gap', RUN),
      open: gauge('pushbench_open_connections', 'Clients with an open connection at the last tick', RUN),
      started: gauge('pushbench_clients_started', 'Clients started so far', RUN),
      planned: gauge('pushbench_clients_planned', 'Clients the current window (or staircase step) holds when all have started', RUN),
      p50: gauge('pushbench_delivery_latency_p50_seconds', 'Delivery latency p50 of the last whole second (the progress line\'s)', RUN),
      p99: gauge('pushbench_delivery_latency_p99_seconds', 'Delivery latency p99 of the last whole second (an upper bound with several workers)', RUN),
      elu: gauge('pushbench_generator_event_loop_utilization', 'A worker thread\'s event-loop utilization in its last second (0..1)', [...RUN, 'worker']),
      delay: gauge('pushbench_generator_event_loop_delay_p99_seconds', 'A worker thread\'s event-loop delay p99 in its last second', [...RUN, 'worker']),
      cpu: counter('pushbench_generator_worker_cpu_seconds_total', 'CPU time of a worker thread', [...RUN, 'worker']),
      phase: gauge('pushbench_run_phase', '1 for the phase the run is in (ramp, warmup, measure, drain), 0 for the others', [...RUN, 'phase']),
      elapsed: gauge('pushbench_run_elapsed_seconds', 'Seconds since the run\'s first client was due', RUN),
      length: gauge('pushbench_run_length_seconds', 'Seconds the run lasts when not cut short, drain included', RUN),
      valid: gauge('pushbench_run_valid', '1 while the generator kept up by its own rule over the measured seconds so far; at the end, the record\'s validity', RUN),
      latency: new BucketHistogram<RunLabel>({ name: 'pushbench_delivery_latency_seconds', help: 'Delivery latency of measured messages, from their scheduled publish time', labelNames: RUN, buckets: LATENCY_BUCKETS_S, registers }),
    };
    collectDefaultMetrics({ register: this.registry });
  }

  forRun(labels: RunLabels): RunMetrics {
    const key = JSON.stringify([labels.run, labels.transport, labels.shard]);
    let r = this.runs.get(key);
    if (!r) this.runs.set(key, (r = new RunSeries(this.m, { run: labels.run, transport: labels.transport, shard: labels.shard })));
    return r;
  }

  /** The exposition (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

type Families = GeneratorMetrics['m'];

/** One run's series: the workers' last counts (for deltas) and the measured seconds' loops (for validity). */
class RunSeries implements RunMetrics {
  private readonly last = new Map<number, RunTotals>();
  /** per worker: its last tick's ELU and loop delay, and those of the measured seconds so far */
  private readonly loops = new Map<number, { elu: number; delayMs: number; elus: number[]; delaysMs: number[] }>();

  constructor(private readonly m: Families, private readonly labels: RunLabels) {
    for (const c of [m.deliveries, m.duplicates, m.connects, m.reconnects, m.requests]) c.inc(labels, 0);
    m.lost.set(labels, 0);
    m.valid.set(labels, 1);
    m.latency.touch(labels);
  }

  tick(t: WorkerTick): void {
    const { m, labels } = this;
    const w = { ...labels, worker: String(t.workerIndex) };
    m.elu.set(w, t.elu);
    m.delay.set(w, t.loopDelayP99Ms / 1000);
    m.cpu.inc(w, t.cpuUs / 1e6);
    const loop = this.loops.get(t.workerIndex) ?? { elu: 0, delayMs: 0, elus: [], delaysMs: [] };
    loop.elu = t.elu;
    loop.delayMs = t.loopDelayP99Ms;
    this.loops.set(t.workerIndex, loop);
    if (t.latencyBuckets) m.latency.add(labels, t.latencyBuckets);
    if (t.totals) this.count(t.workerIndex, t.totals);
  }

  second(p: Progress): void {
    const { m, labels } = this;
    m.open.set(labels, p.open);
    m.started.set(labels, p.started);
    m.planned.set(labels, p.clients);
    m.p50.set(labels, p.p50Us / 1e6);
    m.p99.set(labels, p.p99Us / 1e6);
    m.elapsed.set(labels, p.elapsedS);
    m.length.set(labels, p.totalS);
    for (const phase of PHASES) m.phase.set({ ...labels, phase }, phase === p.phase ? 1 : 0);
    if (p.phase !== 'measure') return;
    // The generator's own rule (load/starvation.ts) over the measured seconds so far.
    let kept = true;
    for (const loop of this.loops.values()) {
      loop.elus.push(loop.elu);
      loop.delaysMs.push(loop.delayMs);
      const v = judgeLoop(loop.elus, loop.delaysMs);
      if (v.saturated || v.stalled) kept = false;
    }
    m.valid.set(labels, kept ? 1 : 0);
  }

  end(results: readonly Pick<WorkerResult, 'totals' | 'latencyBuckets'>[], valid: boolean): void {
    results.forEach((r, w) => {
      if (r.totals) this.count(w, r.totals);
      if (r.latencyBuckets) this.m.latency.add(this.labels, r.latencyBuckets);
    });
    this.m.valid.set(this.labels, valid ? 1 : 0);
    for (const phase of PHASES) this.m.phase.set({ ...this.labels, phase }, 0);
  }

  /** Counters += what worker `w` counted since its last report; the lost gauge = the workers' sum. */
  private count(w: number, now: RunTotals): void {
    const { m, labels } = this;
    const was = this.last.get(w);
    const up = (c: Counter<RunLabel>, a: number, b: number | undefined) => {
      if (a > (b ?? 0)) c.inc(labels, a - (b ?? 0));
    };
    up(m.deliveries, now.delivered, was?.delivered);
    up(m.duplicates, now.duplicates, was?.duplicates);
    up(m.connects, now.connectionsOpened, was?.connectionsOpened);
    up(m.reconnects, now.reconnects, was?.reconnects);
    up(m.requests, now.requests, was?.requests);
    for (const [code, n] of Object.entries(now.errors)) {
      const before = was?.errors[code] ?? 0;
      if (n > before) m.errors.inc({ ...labels, code }, n - before);
    }
    this.last.set(w, { ...now, errors: { ...now.errors } });
    let lost = 0;
    for (const t of this.last.values()) lost += t.lost;
    m.lost.set(labels, lost);
  }
}
