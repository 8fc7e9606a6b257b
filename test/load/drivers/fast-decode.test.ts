/**
 * The fast path that reads a wire message in place, against JSON.parse on thousands of seeded
 * random messages.
 *
 * Heavy: thousands of random messages, each decoded twice.
 */
import { describe, expect, it } from 'vitest';
import { contractMiddle, contractView, decodeContractBytes, messageOf, readContract } from '../../../load/drivers/fast-decode.ts';
import { Cursor } from '../../../load/drivers/cursor.ts';
import type { ClientEvents } from '../../../load/drivers/types.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../../../core/wire.ts';
import { seededRandom } from '../../../reports/stats.ts';

/** seeded, so a failure replays */
const rng = seededRandom;

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

function randomMessage(r: () => number): WireMessage {
  const str = (alphabet: string, max: number) => Array.from({ length: Math.floor(r() * max) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
  const big = r() < 0.2;
  return {
    seq: big ? Math.floor(r() * 1e15) : Math.floor(r() * 1000),
    ts: Math.floor(r() * 1e13),
    topic: str('abcdefghijklmnopqrstuvwxyz0123456789._~-', 12) || 't0',
    epoch: str('0123456789abcdef', 16),
    // Printable ASCII includes `"` and `\`: JSON.stringify escapes them, which the fast path refuses.
    data: r() < 0.3 ? str(PRINTABLE, 80) : str('abcdefghijklmnopqrstuvwxyz0123456789', 200),
  };
}

/** The fast reader's answer on `text`'s UTF-8 bytes, and what decodeMessage (JSON.parse) gives. */
function both(text: string, known = {}) {
  return { fast: decodeContractBytes(Buffer.from(text), known), slow: decodeMessage(text) };
}

describe('fast contract decoder', () => {
  it('reads every encodeMessage output exactly as JSON.parse does (10,000 generated messages)', () => {
    const r = rng(1);
    let fast = 0;
    for (let k = 0; k < 10_000; k++) {
      const text = encodeMessage(randomMessage(r));
      const { fast: got, slow } = both(text);
      expect(slow, text).toBeDefined();
      if (got !== null) {
        fast++;
        expect(got, text).toEqual(slow);
      } else {
        // only escaped data is declined
        expect(text.slice(text.indexOf('"data":')), text).toMatch(/\\/);
      }
    }
    // Escaped data (`"` or `\` in it) is left to JSON.parse; everything else is read fast.
    expect(fast).toBeGreaterThan(7_000);
  });

  it('never disagrees with JSON.parse on mutated input: it answers the same or declines (50,000 mutations)', () => {
    const r = rng(2);
    const alphabet = '{}[]",:.-+eE0123456789\\ \tabcxyz\u00e9\u2028';
    let declined = 0;
    for (let k = 0; k < 50_000; k++) {
      let text = encodeMessage(randomMessage(r));
      for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
        const at = Math.floor(r() * (text.length + 1));
        const op = r();
        const ch = alphabet[Math.floor(r() * alphabet.length)];
        if (op < 0.4) text = text.slice(0, at) + ch + text.slice(at);
        else if (op < 0.7) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + ch + text.slice(at + 1);
      }
      const { fast: got, slow } = both(text);
      if (got === null) declined++;
      else expect(got, text).toEqual(slow);
    }
    expect(declined).toBeGreaterThan(0);
  });

  it("with the client's known topic and epoch as one run of bytes: the same answers, the client's own strings, any topic", () => {
    const r = rng(3);
    // Topics and epochs a server may send escaped or raw: the known middle is built with
    // JSON.stringify, so whatever matches it decodes to exactly the known strings.
    const odd = 'ab"\\/\u00e9\u2028\u007f\u0001 -';
    const str = (alphabet: string, max: number) => Array.from({ length: 1 + Math.floor(r() * max) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    const alphabet = '{}[]",:.-+eE0123456789\\ \tabcxyz\u00e9\u2028';
    let viaMiddle = 0;
    let declined = 0;
    for (let k = 0; k < 20_000; k++) {
      const msg = randomMessage(r);
      if (r() < 0.5) msg.topic = str(odd, 6);
      if (r() < 0.3) msg.epoch = str(odd, 6);
      const known = { topic: msg.topic, epoch: msg.epoch, middle: contractMiddle(msg.topic, msg.epoch) };
      let text = encodeMessage(msg);
      const mutate = k % 2 === 1;
      if (mutate) {
        const at = Math.floor(r() * (text.length + 1));
        const ch = alphabet[Math.floor(r() * alphabet.length)];
        text = r() < 0.5 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + ch + text.slice(at + 1);
      }
      const { fast: got, slow } = both(text, known);
      if (got === null) {
        declined++;
        // unmutated, only escaped data is declined
        if (!mutate) expect(text.slice(text.indexOf('"data":')), text).toMatch(/\\/);
        continue;
      }
      expect(got, text).toEqual(slow);
      if (got.topic === known.topic && got.epoch === known.epoch) viaMiddle++;
    }
    expect(viaMiddle).toBeGreaterThan(10_000);
    expect(declined).toBeGreaterThan(0);
  });

  it('reads in place: the view holds the fields and the data as a range, nothing else changes on a decline', () => {
    const msg = { seq: 12, ts: 345, topic: 'news', epoch: 'e1', data: 'payload' };
    const chunk = Buffer.from(`id: e1:12\ndata: ${encodeMessage(msg)}\n\n`);
    const start = chunk.indexOf('{');
    const end = chunk.indexOf('\n', start);
    const known = { topic: 'news', epoch: 'e1', middle: contractMiddle('news', 'e1') };
    expect(readContract(chunk, known, start, end)).toBe(true);
    const v = contractView;
    expect([v.seq, v.ts, v.buf, chunk.toString('latin1', v.dataStart, v.dataEnd)]).toEqual([12, 345, chunk, 'payload']);
    expect(v.topic).toBe(known.topic);
    expect(messageOf(v)).toEqual(msg);
    // The middle of another topic is no shortcut: the fields are read one by one.
    expect(readContract(Buffer.from(encodeMessage({ ...msg, topic: 'other' })), known)).toBe(true);
    expect(contractView.topic).toBe('other');
    expect(readContract(Buffer.from('{"seq":1}'), known)).toBe(false);
    expect(contractView.topic).toBe('other');
  });

  it("clients of one thread share one copy of a topic and epoch, and a new epoch gets its own", () => {
    const seen: { topic: string; epoch: string }[] = [];
    const events: ClientEvents = {
      connected: () => {}, request: () => {}, gap: () => {}, error: () => {}, reconnecting: () => {},
      message: () => {},
      messageView: (v) => seen.push({ topic: v.topic, epoch: v.epoch }),
    };
    const a = new Cursor(events);
    const b = new Cursor(events);
    // each cursor reads its own bytes (fresh strings from each buffer)
    a.frameBytes(Buffer.from(encodeMessage({ seq: 1, ts: 1, topic: 'room-7', epoch: 'ep1', data: 'x' })), 0);
    b.frameBytes(Buffer.from(encodeMessage({ seq: 1, ts: 1, topic: 'room-7', epoch: 'ep1', data: 'y' })), 0);
    expect(a.epoch).toBe('ep1');
    expect(a.middle).not.toBeNull();
    // the very same bytes (JS cannot tell two equal strings apart; the pair's object it can)
    expect(a.middle).toBe(b.middle);
    expect(seen.map((s) => s.epoch)).toEqual(['ep1', 'ep1']);
    // the next message of the same pair is read through the middle; a new epoch moves the cursor on
    a.frameBytes(Buffer.from(encodeMessage({ seq: 2, ts: 2, topic: 'room-7', epoch: 'ep1', data: 'x' })), 0);
    a.frameBytes(Buffer.from(encodeMessage({ seq: 1, ts: 3, topic: 'room-7', epoch: 'ep2', data: 'x' })), 0);
    expect([a.epoch, a.seq, seen.length]).toEqual(['ep2', 1, 4]);
    expect(a.middle).not.toBe(b.middle);
    expect(Buffer.from(a.middle!).toString()).toBe(',"topic":"room-7","epoch":"ep2","data":"');
  });

  it('declines what is valid JSON but not the exact contract form, and the cursor still delivers it', () => {
    const base = { seq: 7, ts: 1234, topic: 't1', epoch: 'ab', data: 'hello' };
    const variants = [
      '{"ts":1234,"seq":7,"topic":"t1","epoch":"ab","data":"hello"}', // field order
      '{"seq":7,"ts":1234,"topic":"t1","epoch":"ab","data":"hello","source":"c9"}', // extra field
      '{"seq":7, "ts":1234,"topic":"t1","epoch":"ab","data":"hello"}', // whitespace
      '{"seq":7,"ts":1234.0,"topic":"t1","epoch":"ab","data":"hello"}', // fraction
      '{"seq":7,"ts":1.234e3,"topic":"t1","epoch":"ab","data":"hello"}', // exponent
      '{"seq":7,"ts":1234,"topic":"t\\u0031","epoch":"ab","data":"hello"}', // escape
      '{"seq":7,"ts":1234,"topic":"t1","epoch":"ab","data":"h\u00e9llo"}', // non-ASCII
    ];
    for (const text of variants) {
      const { fast: got, slow } = both(text);
      expect(got, text).toBeNull();
      expect(slow, text).toMatchObject({ seq: 7, ts: 1234, topic: slow?.topic, epoch: 'ab' });
    }
    const got: WireMessage[] = [];
    const events: ClientEvents = {
      connected: () => {}, request: () => {}, gap: () => {}, error: () => {}, reconnecting: () => {},
      message: (m) => got.push(m),
      messageView: (v) => got.push(messageOf(v)),
    };
    const c = new Cursor(events);
    for (const text of variants) c.frameBytes(Buffer.from(text), 0);
    expect(got.map((m) => m.seq)).toEqual(variants.map(() => base.seq));
    expect(got[1]!.source).toBe('c9');
  });

  it('reads a range of a larger buffer (an SSE data line) and never past its end', () => {
    const msg = { seq: 41, ts: 99, topic: 't', epoch: 'e', data: 'abc' };
    const line = encodeMessage(msg);
    const chunk = Buffer.from(`id: e:41\ndata: ${line}\n\n`);
    const start = chunk.indexOf('{');
    const end = chunk.indexOf('\n', start);
    expect(decodeContractBytes(chunk, {}, start, end)).toEqual(msg);
    // Cut one byte short, the closing brace is missing: declined, not read from beyond the range.
    expect(decodeContractBytes(chunk, {}, start, end - 1)).toBeNull();
    // A number running into the range's end is not continued with the bytes after it.
    const digits = Buffer.from('{"seq":12345');
    expect(decodeContractBytes(digits, {}, 0, digits.length - 2)).toBeNull();
  });

  it('declines numbers JSON forbids or a double cannot hold exactly', () => {
    for (const seq of ['07', '-1', '1234567890123456', '']) {
      const text = `{"seq":${seq},"ts":1,"topic":"t","epoch":"e","data":""}`;
      expect(decodeContractBytes(Buffer.from(text), {}), text).toBeNull();
    }
  });

  it('returns the strings the client already holds instead of equal copies', () => {
    const known = { topic: 'news.eu', epoch: 'f00d' };
    const text = encodeMessage({ seq: 1, ts: 2, topic: 'news.eu', epoch: 'f00d', data: 'x' });
    const m = decodeContractBytes(Buffer.from(text), known)!;
    expect(m.topic).toBe(known.topic);
    expect(m.epoch).toBe(known.epoch);
    // A different epoch of the same length is read, not mistaken for the known one.
    const other = decodeContractBytes(Buffer.from(encodeMessage({ seq: 1, ts: 2, topic: 'news.eu', epoch: 'beef', data: 'x' })), known)!;
    expect(other.epoch).toBe('beef');
  });
});
