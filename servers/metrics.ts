/**
 * `GET /metrics` of the reference server: the counters of `GET /stats` (servers/stats.ts states
 * their semantics) as Prometheus text, plus the replay ring's figures and this process's own
 * (prom-client's default process and Node.js metrics: CPU, memory, event-loop lag, GC).
 *
 * One snapshot per scrape, from the same source `/stats` answers from, so a scrape and a /stats
 * call at the same moment agree. In a multi-process server (`serve --server-procs N`) that source
 * is the sum over the processes (servers/cluster.ts); the ring's figures, the event-loop and the
 * `process_*`/`nodejs_*` families are those of the one process that answered the scrape.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Counter, Registry } from 'prom-client';
import type { StatsSnapshot } from '../core/wire.ts';
import type { RequestContext } from './http.ts';
import type { Hub } from './hub.ts';
import type { ServerStats } from './stats.ts';

export interface MetricsSources {
  stats: ServerStats;
  hub: Hub;
  /** the summed snapshot of a multi-process server (ServerParts.stats); absent: this process's */
  summed?: () => Promise<StatsSnapshot>;
}

/**
 * The route the router registers at `/metrics`. Nothing is set up until the first scrape: the
 * default metrics keep an event-loop delay monitor (a timer every 10 ms) and a GC observer in the
 * process, which a server nobody scrapes should not pay for while it is measured; nor for loading
 * prom-client, a quarter of the reference server's start-up.
 */
export function metricsRoute(src: MetricsSources): { method: 'GET'; handle(ctx: RequestContext): Promise<void> } {
  // one setup, shared by scrapes that arrive while prom-client is still loading
  let setup: Promise<{ registry: Registry; fill: ReturnType<typeof families> }> | undefined;
  const snapshot = src.summed ?? (() => Promise.resolve(src.stats.snapshot(src.hub.epoch, src.hub.topicCount, src.hub.published, null, false)));
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    method: 'GET',
    async handle({ res }) {
      setup ??= import('prom-client').then((prom) => {
        const registry = new prom.Registry();
        const fill = families(prom, registry);
        prom.collectDefaultMetrics({ register: registry });
        return { registry, fill };
      });
      const { registry, fill } = await setup;
      const now = performance.eventLoopUtilization();
      fill(await snapshot(), src.hub, performance.eventLoopUtilization(now, elu).utilization);
      elu = now;
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
    },
  };
}

/** Register the families on `registry`; returns how to set them from one scrape's readings. */
function families(prom: typeof import('prom-client'), registry: Registry): (s: StatsSnapshot, hub: Hub, elu: number) => void {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new prom.Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new prom.Gauge<L>({ name, help, labelNames, registers });
  const m = {
    open: gauge('pushbench_server_open_connections', 'Open connections by the transport of their latest request', ['transport']),
    tcpOpen: gauge('pushbench_server_tcp_connections', 'Open TCP connections'),
    accepted: counter('pushbench_server_tcp_accepted_total', 'TCP connections accepted'),
    requests: counter('pushbench_server_http_requests_total', 'HTTP requests and upgrades received'),
    published: counter('pushbench_server_published_total', 'Messages published (scheduled and upstream)'),
    delivered: counter('pushbench_server_delivered_total', 'Messages written to subscribers, by transport (a poll answer of 3 counts 3)', ['transport']),
    written: counter('pushbench_server_written_bytes_total', 'Bytes written on client sockets: headers, framing and heartbeats included'),
    read: counter('pushbench_server_read_bytes_total', 'Bytes read from client sockets'),
    drops: counter('pushbench_server_slow_consumer_drops_total', 'Subscribers dropped for holding more unsent bytes than --send-buffer'),
    rejected: counter('pushbench_server_rejected_total', 'Requests refused, by reason', ['reason']),
    replayed: counter('pushbench_server_replayed_total', 'Messages answered from the replay ring (resumes and polls), this process'),
    gaps: counter('pushbench_server_replay_gaps_total', 'Resumes that asked for messages the ring no longer held, this process'),
    cpu: counter('pushbench_server_cpu_seconds_total', 'CPU time of the server, every process of it'),
    rss: gauge('pushbench_server_resident_memory_bytes', 'Resident memory of the server, every process of it'),
    heap: gauge('pushbench_server_heap_used_bytes', 'V8 heap in use, every process of the server'),
    topics: gauge('pushbench_server_topics', 'Topics that exist'),
    elu: gauge('pushbench_server_event_loop_utilization', 'Event-loop utilization since the previous scrape (0..1), this process'),
  };
  /** A counter's value is the snapshot's running total (never lower than the last one: the source only counts up). */
  const total = <L extends string>(c: Counter<L>, v: number, labels?: Record<L, string>) => {
    c.reset();
    if (labels) c.inc(labels, v);
    else c.inc(v);
  };
  return (s, hub, elu) => {
    m.open.reset();
    for (const [transport, n] of Object.entries(s.open)) m.open.set({ transport }, n);
    m.delivered.reset();
    for (const [transport, n] of Object.entries(s.delivered)) m.delivered.inc({ transport }, n);
    m.rejected.reset();
    for (const [reason, n] of Object.entries(s.rejected)) m.rejected.inc({ reason }, n);
    m.tcpOpen.set(s.tcpOpen);
    total(m.accepted, s.tcpAccepted);
    total(m.requests, s.httpRequests);
    total(m.published, s.published);
    total(m.written, s.bytesWritten);
    total(m.read, s.bytesRead);
    total(m.drops, s.slowConsumerDrops);
    total(m.replayed, hub.replayed);
    total(m.gaps, hub.replayGaps);
    total(m.cpu, (s.cpuUs.user + s.cpuUs.system) / 1e6);
    m.rss.set(s.rssBytes);
    m.heap.set(s.heapUsedBytes);
    m.topics.set(s.topics);
    m.elu.set(Number.isFinite(elu) ? elu : 0);
  };
}
