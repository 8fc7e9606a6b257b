/**
 * The cluster primary's parts (servers/cluster.ts): the hub that forwards every sequenced message to
 * the workers, the requests it fans out to every worker and answers with what they all said (stats
 * snapshots, admin faults), the wait until every worker listens, and the workers' stop.
 *
 * A request over the workers is answered once every live worker has answered, or after
 * REQUEST_TIMEOUT_MS with what came in; a worker that disconnected is not waited for.
 */
import type { Worker } from 'node:cluster';
import { PushbenchError } from '../core/errors.ts';
import type { AdminAction } from './admin.ts';
import { SequencingHub, type Sequenced, type ToPrimary, type ToWorker } from './cluster-ipc.ts';
import type { StatsSnapshot } from '../core/wire.ts';

const REQUEST_TIMEOUT_MS = 3000;
const CLOSE_TIMEOUT_MS = 3000;

/**
 * The primary's hub: messages published in one turn of the loop (a publisher tick) travel to
 * every connected worker in one IPC message.
 */
export function forwardingHub(workers: readonly Worker[]): SequencingHub {
  let pending: Sequenced[] = [];
  const flush = () => {
    const list = pending;
    pending = [];
    for (const w of workers) if (w.isConnected()) w.send({ t: 'msgs', list } satisfies ToWorker);
  };
  return new SequencingHub((m) => {
    if (pending.length === 0) queueMicrotask(flush);
    pending.push(m);
  });
}

/** Stats requests: every worker's snapshot, in worker order. */
export class SnapshotGather {
  private nextId = 1;
  private readonly collecting = new Map<number, { got: StatsSnapshot[]; done: (all: StatsSnapshot[]) => void }>();

  constructor(private readonly workers: readonly Worker[]) {}

  /** Ask every worker for its snapshot; resolves with those that came in. */
  collect(): Promise<StatsSnapshot[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), REQUEST_TIMEOUT_MS);
      const finish = () => {
        clearTimeout(timer);
        const c = this.collecting.get(id);
        this.collecting.delete(id);
        resolve(c ? this.workers.map((w) => c.got[w.id]).filter((s): s is StatsSnapshot => s !== undefined) : []);
      };
      this.collecting.set(id, { got: [], done: finish });
      for (const w of this.workers) if (w.isConnected()) w.send({ t: 'collect', id } satisfies ToWorker);
    });
  }

  /** Worker `w` answered request `id`. */
  answered(w: Worker, id: number, snapshot: StatsSnapshot): void {
    const c = this.collecting.get(id);
    if (c) {
      c.got[w.id] = snapshot;
      if (this.workers.every((x) => c.got[x.id] !== undefined || !x.isConnected())) c.done(c.got);
    }
  }
}

/**
 * Admin faults: every worker injects; a cut is answered with the sum of what they cut. A stall
 * is answered before any worker stalls (the asker among them), so the answer gets out.
 */
export class FaultFanout {
  private nextId = 1;
  private readonly injecting = new Map<number, { got: Map<number, number>; done: () => void }>();

  constructor(private readonly workers: readonly Worker[]) {}

  /** Worker `asker` was asked (its request `ask`) to inject `action` everywhere. */
  inject(asker: Worker, ask: number, action: AdminAction): void {
    const id = this.nextId++;
    const live = this.workers.filter((w) => w.isConnected());
    const answer = (n: number) => asker.isConnected() && asker.send({ t: 'admin-done', ask, n } satisfies ToWorker);
    if (action.kind === 'stall') answer(live.length);
    else {
      const got = new Map<number, number>();
      const timer = setTimeout(() => done(), REQUEST_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        if (!this.injecting.delete(id)) return;
        answer([...got.values()].reduce((a, b) => a + b, 0));
      };
      this.injecting.set(id, { got, done });
    }
    for (const w of live) w.send({ t: 'inject', id, action, from: asker.id, ask } satisfies ToWorker);
  }

  /** Worker `w` injected fault `id`, cutting `n` connections. */
  injected(w: Worker, id: number, n: number): void {
    const c = this.injecting.get(id);
    if (c) {
      c.got.set(w.id, n);
      if (this.workers.every((x) => c.got.has(x.id) || !x.isConnected())) c.done();
    }
  }
}

/** The start: every worker must listen, all on one port. */
export class StartWait {
  private readonly ports = new Map<number, number>();
  private waiting: { resolve(port: number): void; reject(err: Error): void } | undefined;

  constructor(private readonly workers: readonly Worker[]) {}

  /** Worker `w` listens on `port`. */
  listening(w: Worker, port: number): void {
    this.ports.set(w.id, port);
    this.check();
  }

  /** Fail the wait with `why` (a worker exited); false when no wait is on. */
  fail(why: string): boolean {
    if (!this.waiting) return false;
    this.waiting.reject(new PushbenchError('PB_SERVER_START', why));
    return true;
  }

  /** The one port, once every worker listens; rejects with PB_SERVER_START after `timeoutMs` or on {@link fail}. */
  async wait(timeoutMs: number): Promise<number> {
    try {
      return await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new PushbenchError('PB_SERVER_START', `the cluster's workers did not all listen within ${timeoutMs / 1000} s`)), timeoutMs);
        this.waiting = {
          resolve: (p) => { clearTimeout(timer); resolve(p); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        };
        this.check();
      });
    } finally {
      this.waiting = undefined;
    }
  }

  private check(): void {
    if (!this.waiting || this.ports.size < this.workers.length) return;
    const ports = new Set(this.ports.values());
    if (ports.size === 1) this.waiting.resolve([...ports][0]);
    else this.waiting.reject(new PushbenchError('PB_SERVER_START', `the cluster's workers listen on different ports (${[...ports].join(', ')})`));
  }
}

/** What the primary answers its workers' messages with. */
export interface PrimaryParts {
  hub: SequencingHub;
  start: StartWait;
  snapshots: SnapshotGather;
  faults: FaultFanout;
  /** the cluster's summed /stats */
  summed(): Promise<StatsSnapshot>;
}

/** Handle message `m` from worker `w`. */
export function onWorkerMessage(p: PrimaryParts, w: Worker, m: ToPrimary): void {
  if (m.t === 'listening') {
    p.start.listening(w, m.port);
  } else if (m.t === 'publish') {
    const seq = p.hub.publish(m.topic, m.data, m.ts);
    // After the message's own flush (queued by publish), so the sender sees it first.
    queueMicrotask(() => w.isConnected() && w.send({ t: 'seq', id: m.id, seq } satisfies ToWorker));
  } else if (m.t === 'ask-stats') {
    void p.summed().then((snapshot) => w.isConnected() && w.send({ t: 'stats', id: m.id, snapshot } satisfies ToWorker));
  } else if (m.t === 'admin') {
    p.faults.inject(w, m.ask, m.action);
  } else if (m.t === 'injected') {
    p.faults.injected(w, m.id, m.n);
  } else if (m.t === 'snapshot') {
    p.snapshots.answered(w, m.id, m.snapshot);
  }
}

/** Ask every worker to close, wait for all to exit; SIGKILL those still alive after CLOSE_TIMEOUT_MS. */
export async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  const exits = workers.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((r) => w.once('exit', () => r()))));
  for (const w of workers) if (w.isConnected()) w.send({ t: 'close' } satisfies ToWorker);
  const force = setTimeout(() => {
    for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
  }, CLOSE_TIMEOUT_MS);
  await Promise.all(exits);
  clearTimeout(force);
}
