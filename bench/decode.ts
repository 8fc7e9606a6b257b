/**
 * `npm run bench:decode`: the generator's per-delivery CPU outside the network stack, in one
 * process, no sockets — what load/drivers/fast-decode.ts and SseParser's byte path buy, each
 * against the path it replaced, measured in the same run:
 *
 * 1. decoding one WebSocket text frame: `decodeMessage(buf.toString())` (JSON.parse) vs
 *    `readContract(buf)` in place, with the topic and epoch known (as a client's cursor knows them);
 * 2. one SSE event chunk (`id: …\ndata: {…}\n\n`): the text path (StringDecoder, line slices,
 *    JSON.parse) vs the byte path (Buffer.indexOf, byte-range decode);
 * 3. a whole delivery as a driver does it after the socket read: decode + cursor + recorder
 *    (ws: Cursor.frameBytes; SSE: byte-path parser → Cursor.messageBytes, and the parser's one
 *    pass, which the SSE driver runs, with the cursor reading each event's data in place), and the
 *    same with the old text decoding.
 *
 * 1,000 reference messages (64 B payload, as the reference server sends them) are cycled, each
 * stamped with the next seq before use (9 fixed-width digits written into its bytes; the write is
 * timed in every row alike), so a cursor and recorder see an in-order stream as in a real run. Each
 * figure is the median of 7 rounds of 200,000 messages, after 2 warm-up rounds.
 * Usage: `npm run bench:decode [-- --cpu N]` (pins this process to CPU N when taskset exists).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Cursor } from '../load/drivers/cursor.ts';
import { contractMiddle, contractView, readContract } from '../load/drivers/fast-decode.ts';
import { SseParser } from '../load/drivers/sse-parser.ts';
import { Recorder } from '../load/recorder.ts';
import { HistogramFeed, createHistogram } from '../core/histogram.ts';
import { pinSelf } from '../core/spawn.ts';
import { cpuModel } from '../load/resources.ts';
import { decodeMessage, encodeMessage, nowUs, sseEventId } from '../core/wire.ts';
import { makePayload } from '../servers/publisher.ts';

const cpuArg = process.argv.indexOf('--cpu');
const cpu = cpuArg >= 0 ? process.argv[cpuArg + 1] : '1';
const pinned = cpu !== undefined && /^\d+$/.test(cpu) && Number(cpu) < os.cpus().length && pinSelf(cpu);

const DISTINCT = 1000;
const ROUND = 200_000;
const ROUNDS = 7;
const WARMUP = 2;
const EPOCH = 'm3k9x2';
const t0 = nowUs();
const payload = makePayload(64);
/** seqs are 9 digits from here on, so a new seq is written over the old one in place */
const SEQ0 = 100_000_000;
const texts = Array.from({ length: DISTINCT }, (_, i) => encodeMessage({ seq: SEQ0 + i, ts: t0 + i, topic: 't0', epoch: EPOCH, data: payload }));
const frames = texts.map((t) => Buffer.from(t));
const events = texts.map((t, i) => Buffer.from(`id: ${sseEventId(EPOCH, SEQ0 + i)}\ndata: ${t}\n\n`));
const SEQ_AT = '{"seq":'.length;
const eventSeqAt = events[0]!.indexOf('{"seq":') + SEQ_AT;

/** Write `seq` (9 digits) into `buf` at `at`. */
function stamp(buf: Buffer, at: number, seq: number): void {
  for (let k = at + 8; k >= at; k--) {
    buf[k] = 48 + (seq % 10);
    seq = Math.floor(seq / 10);
  }
}

let sink = 0;
let nextSeq = SEQ0 + DISTINCT;
/** ns per call of `one(i)` (message i freshly stamped by `prepare`): median over the rounds. */
function measure(prepare: (i: number, seq: number) => void, one: (i: number) => void): number {
  const per: number[] = [];
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const start = performance.now();
    for (let k = 0; k < ROUND; k++) {
      const i = k % DISTINCT;
      prepare(i, nextSeq++);
      one(i);
    }
    if (r >= WARMUP) per.push(((performance.now() - start) * 1e6) / ROUND);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

/** A recorder with one client and its cursor, as a worker holds them (window covers everything). */
const recorders: Recorder[] = [];
function client(): Cursor {
  const recorder = new Recorder({ fromUs: 0, toUs: Number.MAX_SAFE_INTEGER, topicRatePerS: 0 });
  recorders.push(recorder);
  return new Cursor(recorder.forClient(0, 0));
}

const frame = (i: number, seq: number) => stamp(frames[i]!, SEQ_AT, seq);
const event = (i: number, seq: number) => stamp(events[i]!, eventSeqAt, seq);
/** what a client's cursor holds once it has seen the topic and epoch */
const known = { topic: 't0', epoch: EPOCH, middle: contractMiddle('t0', EPOCH) };
const rows: [string, number, number][] = [];

rows.push([
  'decode one ws frame',
  measure(frame, (i) => void (sink += decodeMessage(frames[i]!.toString())!.seq)),
  measure(frame, (i) => void (sink += readContract(frames[i]!, known) ? contractView.seq : -1)),
]);

const textParser = new SseParser((_type, data) => void (sink += decodeMessage(data)!.seq));
const byteParser = new SseParser(() => {}, undefined, (buf, s, e) => void (sink += readContract(buf, known, s, e) ? contractView.seq : -1));
rows.push(['parse + decode one SSE event', measure(event, (i) => textParser.push(events[i]!)), measure(event, (i) => byteParser.push(events[i]!))]);

const wsOld = client();
const wsNew = client();
rows.push(['ws delivery: decode + cursor + recorder', measure(frame, (i) => wsOld.frame(frames[i]!.toString(), t0 + i)), measure(frame, (i) => wsNew.frameBytes(frames[i]!, t0 + i))]);

const sseOldCursor = client();
const sseOld = new SseParser((_type, data) => sseOldCursor.message(data, t0));
const sseNewCursor = client();
const sseNew = new SseParser(() => {}, undefined, (buf, s, e) => sseNewCursor.messageBytes(buf, s, e, t0));
rows.push(['SSE delivery: parse + decode + cursor + recorder', measure(event, (i) => sseOld.push(events[i]!)), measure(event, (i) => sseNew.push(events[i]!))]);

// What the SSE driver runs: the byte path with the cursor reading each event's data in place.
const sseOnePassOldCursor = client();
const sseOnePassOld = new SseParser((_type, data) => sseOnePassOldCursor.message(data, t0));
const sseOnePassCursor = client();
const sseOnePass = new SseParser(() => {}, undefined, (buf, s, e) => sseOnePassCursor.messageBytes(buf, s, e, t0), {
  readInPlace: (buf, from, to) => sseOnePassCursor.readMessageAt(buf, from, to),
  deliverInPlace: () => sseOnePassCursor.deliverRead(t0),
});
rows.push(['SSE delivery, one pass (data read in place)', measure(event, (i) => sseOnePassOld.push(events[i]!)), measure(event, (i) => sseOnePass.push(events[i]!))]);

// Recording one delivery latency: hdr-histogram-js's recordValue against the recorder's
// HistogramFeed, which is flushed into the histogram once a second (here every 100,000 values,
// a second at 100,000 deliveries/s; the flush is inside the timing). Latencies log-uniform over
// 100 µs … 500 ms, as a run's spread.
const latencies = Float64Array.from({ length: DISTINCT }, (_, i) => Math.round(100 * Math.pow(5000, ((i * 7919) % DISTINCT) / DISTINCT)));
const direct = createHistogram();
const fed = createHistogram();
const feed = new HistogramFeed();
let sinceFlush = 0;
const noPrepare = () => {};
const recordRow: [string, number, number] = [
  'record one delivery latency',
  measure(noPrepare, (i) => direct.recordValue(latencies[i]!)),
  measure(noPrepare, (i) => {
    feed.record(latencies[i]!);
    if (++sinceFlush === 100_000) {
      feed.flushInto(fed);
      sinceFlush = 0;
    }
  }),
];
feed.flushInto(fed);

const out = (line = '') => process.stdout.write(`${line}\n`);
out('## Delivery hot path without sockets (`npm run bench:decode`)');
out();
out('| per message | text path (JSON.parse) | byte path | text ÷ byte |');
out('|---|---:|---:|---:|');
for (const [name, text, bytes] of rows) out(`| ${name} | ${text.toFixed(0)} ns | ${bytes.toFixed(0)} ns | ${(text / bytes).toFixed(2)} |`);
out();
out('| per latency | hdr-histogram-js recordValue | HistogramFeed + flush | direct ÷ feed |');
out('|---|---:|---:|---:|');
out(`| ${recordRow[0]} | ${recordRow[1].toFixed(1)} ns | ${recordRow[2].toFixed(1)} ns | ${(recordRow[1] / recordRow[2]).toFixed(2)} |`);
out();
out(`- ${DISTINCT.toLocaleString('en-US')} reference messages (64 B payload) cycled, each stamped with the next seq before use (included in every row); median of ${ROUNDS} rounds × ${ROUND.toLocaleString('en-US')} after ${WARMUP} warm-up rounds`);
const perRow = (WARMUP + ROUNDS) * ROUND;
const books = recorders.map((r) => r.counters);
const clean = books.every((c) => c.delivered === perRow && c.lost === 0 && c.duplicates === 0 && c.outOfOrder === 0);
out(`- delivery rows' recorders: ${books.map((c) => `${c.delivered.toLocaleString('en-US')} delivered / ${c.lost} lost / ${c.duplicates} dup`).join('; ')} — ${clean ? 'every message recorded in order' : 'NOT every message recorded in order: the figures are not comparable'}`);
out(`- ${new Date().toISOString()}; Node ${process.version}; ${cpuModel()}; ${pinned ? `pinned to CPU ${cpu}` : 'not pinned'}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (sink === 0) out('(no message decoded: the benchmark is broken)');
// both histograms got every value: the same counts and the same percentiles
const same = direct.totalCount === fed.totalCount && [50, 99, 99.9].every((q) => direct.getValueAtPercentile(q) === fed.getValueAtPercentile(q));
out(`- latency rows: ${direct.totalCount.toLocaleString('en-US')} values each; ${same ? 'the feed\'s histogram has the same count and p50/p99/p99.9 as the direct one' : 'THE TWO HISTOGRAMS DIFFER: the row is not comparable'}`);
