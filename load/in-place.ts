/**
 * Diagnostic, the worker side of `npm run bench:in-place` (bench/in-place.ts). With
 * `PUSHBENCH_IN_PLACE_VARIANT` set, {@link startInPlace} wraps the contract codec's frame handler
 * (`ContractCodec.text`, what the WebSocket driver calls for every text frame) so that, in slots of
 * {@link SLOT_MS}, every frame also runs a variant's extra work ("B") or only the handler itself
 * ("A"), the slots in pairs of one A and one B in a random order; each pair's two event-loop
 * utilizations are kept. Both sides run through the same wrapper, so the wrapper's own call is in
 * both; a B slot also pays for the frame's own Buffer (a subarray) the variants read. Unset (the
 * normal case), nothing is wrapped and this costs nothing.
 *
 * Why in place: a loop does not say what a piece costs among `ws`, the streams and the kernel's
 * socket reads (which share its caches and branch predictors), and two runs minutes apart differ
 * by more than the piece (this VM's speed drifts by 25 % and more). Alternating inside one run
 * puts A and B under the same drift, and pairing adjacent slots cancels what drift is left; the
 * random order keeps anything periodic (the per-second tick, GC) from falling on one side.
 * Target-profile clients (their own codec) are not wrapped.
 *
 * Variants add work, never skip it: a variant that skipped the books would leave seq gaps that the
 * next A slot pays for (the recorder's missing-seq set), biasing the result.
 *
 * Configured by environment (set by bench/in-place.ts): PUSHBENCH_IN_PLACE_VARIANT (a key of
 * {@link VARIANTS}), PUSHBENCH_IN_PLACE_OUT (the JSON file the slots go to, rewritten every
 * second, one per worker thread), PUSHBENCH_IN_PLACE_SKIP_MS (slots before this are left out:
 * connecting, warming up).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { readContract } from './drivers/fast-decode.ts';
import { Cursor } from './drivers/cursor.ts';
import { Recorder } from './recorder.ts';
import { ContractCodec } from './drivers/codec.ts';
import { nowUs } from '../core/wire.ts';

/**
 * A shadow of each client's cursor and books for `second-delivery`: a recorder of its own whose
 * window is empty, so a frame it sees takes the cursor and the books' seq and epoch logic but adds
 * to no count and no histogram (a shadow fed only in B slots sees gaps; outside the window they
 * are not tracked, so they cost the B side nothing the real books would not).
 */
let shadowRecorder: Recorder | undefined;
const shadows = new WeakMap<ContractCodec, Cursor>();
let shadowIds = 0;
function shadowOf(client: ContractCodec): Cursor {
  let c = shadows.get(client);
  if (c === undefined) {
    shadowRecorder ??= new Recorder({ fromUs: 0, toUs: 0, topicRatePerS: 0 });
    shadows.set(client, (c = new Cursor(shadowRecorder.forClient(shadowIds++, 0))));
  }
  return c;
}

/** What a B slot adds to each frame, after the full delivery path has run. */
export const VARIANTS: Record<string, (client: ContractCodec, cursor: Cursor, bytes: Buffer, recvUs: number) => number> = {
  /** nothing: the calibration (B ÷ A should come out 1 within its error) */
  aa: () => 0,
  /** the frame read a second time, as the cursor reads it (its known topic and epoch) */
  'second-read': (_client, cursor, bytes) => (readContract(bytes, cursor) ? 1 : 0),
  /** the receive clock taken a second time */
  'second-clock': () => nowUs(),
  /**
   * the frame delivered a second time to the client's shadow cursor and books (read, cursor, seq
   * and epoch books; not the counters or the latency histogram — see {@link shadowRecorder}),
   * plus a WeakMap lookup to find the shadow
   */
  'second-delivery': (client, _cursor, bytes, recvUs) => (shadowOf(client).frameBytes(bytes, recvUs) ? 1 : 0),
};

/** What the worker writes to PUSHBENCH_IN_PLACE_OUT. */
export interface InPlaceSlots {
  variant: string;
  slotMs: number;
  /** event-loop utilization (0..1) of the A slot and of the B slot of each pair, in the order they ran */
  a: number[];
  b: number[];
  /** frames handled in A and B slots (the variant ran on every B frame) */
  framesA: number;
  framesB: number;
}

const SLOT_MS = 500;

let started = false;

/** Wraps the frame handler and starts the slots when PUSHBENCH_IN_PLACE_VARIANT is set (once per thread). */
export function startInPlace(): void {
  const variantName = process.env.PUSHBENCH_IN_PLACE_VARIANT;
  if (!variantName || started) return;
  started = true;
  const outFile = process.env.PUSHBENCH_IN_PLACE_OUT;
  const skipMs = Number(process.env.PUSHBENCH_IN_PLACE_SKIP_MS ?? 8000);
  const extra = VARIANTS[variantName];
  if (extra === undefined || !outFile) throw new Error(`load/in-place.ts: PUSHBENCH_IN_PLACE_VARIANT must be one of ${Object.keys(VARIANTS).join(', ')} and PUSHBENCH_IN_PLACE_OUT must be set`);

  type FrameHandler = (this: ContractCodec, buf: Buffer, from: number, to: number, recvUs: number) => boolean;
  const proto = ContractCodec.prototype as unknown as { text: FrameHandler };
  const original = proto.text;
  let inB = false;
  let sink = 0;
  let framesA = 0;
  let framesB = 0;
  proto.text = function textInPlace(this: ContractCodec, buf: Buffer, from: number, to: number, recvUs: number): boolean {
    const ok = original.call(this, buf, from, to, recvUs);
    if (inB) {
      framesB++;
      sink += extra(this, (this as unknown as { cursor: Cursor }).cursor, buf.subarray(from, to), recvUs);
    } else {
      framesA++;
    }
    return ok;
  };

  const slots: InPlaceSlots = { variant: variantName, slotMs: SLOT_MS, a: [], b: [], framesA: 0, framesB: 0 };
  const startedMs = Date.now();
  let last = performance.eventLoopUtilization();
  // Slots come in pairs, one A and one B in a random order: a pair's two slots are 500 ms apart,
  // so a drift slower than a second falls on both and cancels in the pair's difference.
  let first = true;
  let pending: number | null = null;
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (first) {
      pending = elu;
      inB = !inB; // the pair's second slot runs the other side
    } else {
      if (pending !== null && Date.now() - startedMs - 2 * SLOT_MS > skipMs) {
        slots.a.push(inB ? pending : elu);
        slots.b.push(inB ? elu : pending);
      }
      inB = Math.random() < 0.5; // the next pair's first slot
    }
    first = !first;
  }, SLOT_MS).unref();
  setInterval(() => {
    slots.framesA = framesA;
    slots.framesB = framesB;
    // one file per worker thread; written whole and renamed, so a reader never sees half of it
    const file = `${outFile}.${threadId}.json`;
    writeFileSync(`${file}.tmp`, JSON.stringify(slots));
    renameSync(`${file}.tmp`, file);
    if (sink === -1) process.stderr.write(''); // keeps the variants' results alive
  }, 1000).unref();
}
