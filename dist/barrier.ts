/**
 * The start barrier (`pushbench plan --start barrier`): instead of trusting every machine to be
 * up by an absolute time, shard 0 collects "ready" from the others and announces one start to all.
 *
 * Shard 0 listens on the barrier address (over the Job's headless Service in Kubernetes:
 * `<job>-0.<service>:7070`; on loopback in tests). Every other shard POSTs `/ready` with its plan
 * id and index; the request is held (a long poll) until shard 0 decides, then answered with the
 * start (`200 {startAt}`) or the failure (`409 {error}`). Shard 0 decides once every index has
 * reported: the start is `leadMs` from then (each shard's setup lead and the answers' travel), and
 * never before the plan's own `start.at`. A shard that has not reported within the plan's
 * timeout makes shard 0 answer every waiting shard with a message naming the missing indexes, and
 * fail itself with the same message; nothing is run. A shard that cannot reach shard 0 retries
 * until the timeout, then fails naming shard 0. So every shard ends within twice the timeout.
 *
 * A repeated ready (a shard whose connection dropped asks again) is the same ready; shard 0 keeps
 * answering until the announced start, then closes. The start is wall-clock time on shard 0's
 * machine: shards align on it as they align on a plan's absolute start (their clocks are assumed
 * NTP-close; the target-clock correction, dist/clock.ts, is separate).
 */
import http from 'node:http';
import { isIP } from 'node:net';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { PushbenchError } from '../core/errors.ts';
import type { Plan } from './plan.ts';

/** The port shard 0 listens on unless the address names another (the k8s manifest's container port). */
export const BARRIER_PORT = 7070;
/** Where a shard finds the barrier when `--barrier` is not given. */
export const BARRIER_ENV = 'PUSHBENCH_BARRIER';
/** A shard that cannot reach shard 0 yet (its pod not up, its DNS name not yet published) tries again this often. */
const RETRY_MS = 200;
/** A held ready is answered by shard 0's own timeout at the latest; past that plus this, shard 0 is taken for gone. */
const ANSWER_GRACE_MS = 5000;

export interface BarrierAddress {
  host: string;
  port: number;
}

/** `HOST[:PORT]` (port {@link BARRIER_PORT} when left out) or a problem naming `from`. */
export function parseBarrierAddress(raw: string, from: string): BarrierAddress | string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(raw.trim());
  const port = m?.[2] === undefined ? BARRIER_PORT : Number(m[2]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) return `${from} "${raw}" is not a barrier address HOST[:PORT] (shard 0's name or address, e.g. job-0.job:${BARRIER_PORT} or 127.0.0.1:7070)`;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** What the barrier gives a shard: the start every shard runs to, and a close for shard 0's listener. */
export interface BarrierOutcome {
  /** ISO 8601 UTC: when the first client arrives */
  startAt: string;
  /** idempotent; shard 0's listener closes by itself at the start */
  close(): Promise<void>;
}

export interface BarrierOptions {
  /** from the decision to the start, ms: long enough for each shard's setup and the answers' travel */
  leadMs: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

const describeAddress = (a: BarrierAddress) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
const secs = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
const indexList = (xs: number[]) => `shard${xs.length > 1 ? 's' : ''} ${xs.join(', ')}`;

/** Meet the other shards of `plan` at the barrier at `address`; shard 0 listens, the others report. */
export function meetAtBarrier(plan: Plan, index: number, address: BarrierAddress, o: BarrierOptions): Promise<BarrierOutcome> {
  return index === 0 ? collectReady(plan, address, o) : reportReady(plan, index, address, o);
}

function send(res: http.ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify(body));
}

/** Shard 0: listen, hold each ready until every index has reported (or the timeout), answer all. */
async function collectReady(plan: Plan, address: BarrierAddress, o: BarrierOptions): Promise<BarrierOutcome> {
  const timeoutMs = plan.start.barrier!.timeoutMs;
  const ready = new Set<number>([0]);
  const held: http.ServerResponse[] = [];
  let verdict: { startAt: string } | { error: string } | null = null;
  let decide: (v: { startAt: string } | { error: string }) => void = () => undefined;
  const decided = new Promise<{ startAt: string } | { error: string }>((resolve) => (decide = resolve));
  const settle = (v: { startAt: string } | { error: string }) => {
    if (verdict) return;
    verdict = v;
    for (const res of held.splice(0)) send(res, 'startAt' in v ? 200 : 409, v);
    decide(v);
  };
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/ready') return send(res, 404, { error: 'the barrier answers POST /ready only' });
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s));
    req.on('end', () => {
      let m: { planId?: unknown; index?: unknown; host?: unknown };
      try { m = JSON.parse(body) as typeof m; } catch { return send(res, 400, { error: 'the body is not JSON' }); }
      if (m.planId !== plan.id) {
        o.log?.(`barrier: a shard of plan ${String(m.planId)} (${String(m.host)}) reported; this is plan ${plan.id}`);
        return send(res, 409, { error: `shard 0 runs plan ${plan.id}, not ${String(m.planId)}: give every shard the same plan file` });
      }
      if (!Number.isInteger(m.index) || (m.index as number) < 1 || (m.index as number) >= plan.shards) return send(res, 409, { error: `shard index ${String(m.index)} is not one of the plan's 1…${plan.shards - 1}` });
      if (verdict) return send(res, 'startAt' in verdict ? 200 : 409, verdict);
      if (!ready.has(m.index as number)) o.log?.(`barrier: shard ${String(m.index)} (${String(m.host)}) ready, ${ready.size + 1} of ${plan.shards}`);
      ready.add(m.index as number);
      held.push(res);
      if (ready.size === plan.shards) {
        const startMs = Math.max(Date.parse(plan.start.at), Date.now() + o.leadMs);
        settle({ startAt: new Date(startMs).toISOString() });
      }
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  let closed: Promise<void> | null = null;
  const close = () => (closed ??= new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new PushbenchError('PB_BARRIER', `shard 0 cannot listen for the start barrier on ${describeAddress(address)}: ${err.code ?? err.message}`)));
    // a name (the pod's DNS name) is this machine's own: listen on every interface; an address, on it alone
    server.listen(address.port, isIP(address.host) ? address.host : undefined, () => resolve());
  });
  o.log?.(`barrier: shard 0 waits up to ${secs(timeoutMs)} on ${describeAddress(address)} for shards 1…${plan.shards - 1} to report ready`);
  if (plan.shards === 1) settle({ startAt: new Date(Math.max(Date.parse(plan.start.at), Date.now() + o.leadMs)).toISOString() });
  const timer = setTimeout(() => {
    const missing = Array.from({ length: plan.shards }, (_, i) => i).filter((i) => !ready.has(i));
    settle({ error: `start barrier: ${indexList(missing)} of 0…${plan.shards - 1} did not report ready within ${secs(timeoutMs)} (shard 0 at ${describeAddress(address)}); nothing was run` });
  }, timeoutMs);
  const onAbort = () => settle({ error: 'start barrier: shard 0 was interrupted; nothing was run' });
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const v = await decided;
  clearTimeout(timer);
  o.signal?.removeEventListener('abort', onAbort);
  if ('error' in v) {
    await close();
    throw new PushbenchError(o.signal?.aborted ? 'PB_INTERRUPTED' : 'PB_BARRIER', v.error);
  }
  o.log?.(`barrier: every shard ready; start ${v.startAt}`);
  // keep answering until the start: a shard whose answer was lost asks again
  const closeTimer = setTimeout(() => void close(), Math.max(0, Date.parse(v.startAt) - Date.now()));
  return { startAt: v.startAt, close: () => { clearTimeout(closeTimer); return close(); } };
}

/** One POST /ready; resolves with the answer, rejects on a network failure (the caller retries). */
function postReady(address: BarrierAddress, body: string, waitMs: number, signal?: AbortSignal): Promise<{ status: number; answer: { startAt?: string; error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address.host, port: address.port, path: '/ready', method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, timeout: waitMs, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () => {
        try { resolve({ status: res.statusCode ?? 0, answer: JSON.parse(text) as { startAt?: string; error?: string } }); } catch { reject(new Error(`answered ${res.statusCode} with no JSON`)); }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${secs(waitMs)}`), { code: 'ETIMEDOUT', held: true })));
    req.on('error', reject);
    req.end(body);
  });
}

/** Shards 1…N−1: report ready to shard 0 (retrying until it listens) and wait for its answer. */
async function reportReady(plan: Plan, index: number, address: BarrierAddress, o: BarrierOptions): Promise<BarrierOutcome> {
  const timeoutMs = plan.start.barrier!.timeoutMs;
  const deadline = Date.now() + timeoutMs;
  const body = JSON.stringify({ planId: plan.id, index, host: os.hostname() });
  o.log?.(`barrier: shard ${index} reports ready to shard 0 at ${describeAddress(address)} (up to ${secs(timeoutMs)})`);
  let last = '';
  for (;;) {
    if (o.signal?.aborted) throw new PushbenchError('PB_INTERRUPTED', `start barrier: shard ${index} was interrupted; nothing was run`);
    try {
      // shard 0 answers by its own timeout at the latest, which began no later than now
      const { status, answer } = await postReady(address, body, timeoutMs + ANSWER_GRACE_MS, o.signal);
      if (status === 200 && typeof answer.startAt === 'string' && !Number.isNaN(Date.parse(answer.startAt))) {
        o.log?.(`barrier: shard 0 announced the start ${answer.startAt}`);
        return { startAt: answer.startAt, close: async () => undefined };
      }
      throw new PushbenchError('PB_BARRIER', `shard 0 answered: ${answer.error ?? `status ${status}`}`);
    } catch (err) {
      if (err instanceof PushbenchError) throw err;
      const e = err as NodeJS.ErrnoException & { held?: boolean };
      if (e.held) throw new PushbenchError('PB_BARRIER', `start barrier: shard 0 at ${describeAddress(address)} took shard ${index}'s ready but never answered; nothing was run`);
      last = e.code ?? e.message;
    }
    if (Date.now() + RETRY_MS > deadline) {
      throw new PushbenchError('PB_BARRIER', `start barrier: shard 0 at ${describeAddress(address)} could not be reached within ${secs(timeoutMs)} (last: ${last}); is shard 0 running? nothing was run`);
    }
    await sleep(RETRY_MS, undefined, { signal: o.signal }).catch(() => undefined);
  }
}
