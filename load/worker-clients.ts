/**
 * A worker's clients: each created by the transport's driver (or a target profile's) with its
 * books in the worker's recorder — the slow consumers' in a recorder of their own, and so the
 * large topic's subscribers' (`--large-topic`: topic t0's, whose messages are larger) — and, in chat,
 * its turns publishing to its room. Each sends from a source address of the spread, or with
 * `link=browser` from its browser's own (load/browser-address.ts).
 *
 * Threading: runs on the worker thread's event loop.
 */
import { nowUs } from '../core/wire.ts';
import type { Client, Driver } from './drivers/types.ts';
import type { Recorder } from './recorder.ts';
import { ephemeralPortRange, type PortRange } from './resources.ts';
import { sourcePortOf } from './source-ports.ts';
import { browserAddress, browserOf } from './browser-address.ts';
import { chatSchedule, topicIndexOf, topicOf } from './workload.ts';
import { isSlowClient, type WorkerTask } from './worker-task.ts';

export class SliceClients {
  /** the clients started so far, in start order */
  readonly clients: Client[] = [];
  /** of them, slow consumers */
  slowCount = 0;
  /** of them, subscribers of the large topic (never also slow: the run options refuse both) */
  largeCount = 0;
  private readonly payload: string;
  /** the ephemeral range the first connections' source ports come from (read once per thread) */
  private readonly ports: PortRange;

  constructor(
    private readonly task: WorkerTask,
    private readonly driver: Driver,
    private readonly recorder: Recorder,
    private readonly slowRecorder: Recorder | undefined,
    private readonly largeRecorder: Recorder | undefined,
    private readonly signal: { stopped: boolean },
    private readonly timers: Set<NodeJS.Timeout>,
  ) {
    this.payload = 'x'.repeat(task.payloadBytes);
    this.ports = ephemeralPortRange();
  }

  /** Start client `id` now. */
  start(id: number): void {
    const { task } = this;
    const startedUs = nowUs();
    const slow = task.slowClients !== undefined && isSlowClient(id, task.slowClients.share);
    if (slow) this.slowCount++;
    const large = task.largeTopicBytes !== undefined && topicIndexOf(task.workload, id, task.topics) === 0;
    if (large) this.largeCount++;
    const events = (slow ? this.slowRecorder! : large ? this.largeRecorder! : this.recorder).forClient(id, startedUs);
    const intervalMs = task.pollIntervalMs;
    const addresses = task.localAddresses.length;
    const browser = task.browserSlice ? browserAddress(browserOf(id, task.browserSlice, task.streamsPerConnection ?? 1)) : undefined;
    const client = this.driver.create(
      {
        id,
        baseUrl: task.baseUrl,
        topic: topicOf(task.workload, id, task.topics, task.topicPrefix),
        // a browser's address holds its few connections: the kernel picks their ports at no cost
        localAddress: browser ?? (addresses ? task.localAddresses[id % addresses] : undefined),
        localPort: browser ? undefined : sourcePortOf(id, addresses, this.ports),
        pollIntervalMs: intervalMs,
        pollOffsetMs: intervalMs > 0 ? Math.random() * intervalMs : 0,
        longPollTimeoutMs: task.longPollTimeoutMs,
        reconnectMinMs: task.reconnectMinMs,
        reconnectMaxMs: task.reconnectMaxMs,
        reconnectJitter: task.reconnectJitter,
        readBytesPerS: slow ? task.slowClients!.readBytesPerS : undefined,
        tls: task.tls,
        wsCompression: task.wsCompression,
        streamsPerConnection: task.streamsPerConnection,
      },
      events,
    );
    this.clients.push(client);
    client.start();
    if (task.workload === 'chat') this.publishTurns(id, client, startedUs);
  }

  /** Members of a room take turns: the room carries ratePerS in all, each member its share. */
  private publishTurns(id: number, client: Client, startedUs: number): void {
    const { task, recorder, signal, timers, payload } = this;
    const plan = chatSchedule(id, task.totalClients, task.topics, task.ratePerS);
    if (!plan) return;
    let n = 0;
    const first = Math.max(startedUs, task.t0Us) + plan.offsetUs;
    const tick = () => {
      if (signal.stopped) return;
      const planned = first + n * plan.periodUs;
      if (planned >= task.closeAtUs) return;
      if (nowUs() >= planned) {
        const ts = nowUs();
        client.publish(payload, ts);
        recorder.published(ts);
        n++;
      }
      const next = first + n * plan.periodUs;
      const t = setTimeout(() => { timers.delete(t); tick(); }, Math.max(0, (next - nowUs()) / 1000));
      timers.add(t);
    };
    tick();
  }
}
