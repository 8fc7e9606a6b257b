/**
 * The in-place cursor over wire messages: messages and gap notices in any field order, a bad frame
 * counted, and agreement with the reference answers on thousands of them.
 *
 * Heavy: 5,000 reference answers read twice, in place and by JSON.parse.
 */
import { describe, expect, it } from 'vitest';
import { BAD_MESSAGE, Cursor } from '../../../load/drivers/cursor.ts';
import { messageOf } from '../../../load/drivers/fast-decode.ts';
import { encodeMessage, type WireMessage } from '../../../core/wire.ts';
import type { ClientEvents } from '../../../load/drivers/types.ts';
import type { HubMessage } from '../../../servers/hub.ts';
import { pollBody } from '../../../servers/transports/poll-body.ts';
import { seededRandom } from '../../../reports/stats.ts';

function sink() {
  const got = { messages: [] as [WireMessage, number][], gaps: 0, errors: [] as string[] };
  const events: ClientEvents = {
    connected: () => {},
    message: (msg, recvUs) => got.messages.push([msg, recvUs]),
    messageView: (v, recvUs) => got.messages.push([messageOf(v), recvUs]),
    request: () => {},
    gap: () => got.gaps++,
    error: (code) => got.errors.push(code),
    reconnecting: () => {},
  };
  return { got, events };
}

describe('Cursor.frame (WebSocket text frames)', () => {
  it('tells messages from gap notices, in any field order, and resumes after a gap', () => {
    const { got, events } = sink();
    const c = new Cursor(events);
    c.frame(encodeMessage({ seq: 3, ts: 10, topic: 't', epoch: 'e', data: 'x' }), 11);
    // A gap notice from the reference server, and one from a server that orders fields otherwise.
    c.frame('{"type":"gap","topic":"t","epoch":"e","from":4,"to":9}', 12);
    c.frame('{"topic":"t","epoch":"e","from":10,"to":12,"type":"gap"}', 13);
    expect(got.messages.map(([m, recvUs]) => [m.seq, recvUs])).toEqual([[3, 11]]);
    expect(got.gaps).toBe(2);
    expect(c.query()).toBe('&since=12&epoch=e');
  });

  it('counts a frame that is neither as BAD_MESSAGE', () => {
    const { got, events } = sink();
    const c = new Cursor(events);
    c.frame('{"seq":"not a number"}', 1);
    c.frame('garbage', 1);
    expect(got.errors).toEqual([BAD_MESSAGE, BAD_MESSAGE]);
    expect(c.query()).toBe('');
  });
});

describe('Cursor.answerBytes (poll answers read from bytes)', () => {
  /** a Cursor that counts the answers it had to parse as text */
  class Counting extends Cursor {
    parsed = 0;
    override answer(body: string, recvUs: number): boolean | undefined {
      this.parsed++;
      return super.answer(body, recvUs);
    }
  }
  const msg = (seq: number, epoch: string): HubMessage => {
    const m: WireMessage = { seq, ts: 1000 + seq, topic: 't0', epoch, data: `d${seq}` };
    return { ...m, json: encodeMessage(m) } as HubMessage;
  };
  /** the reference server's answer (servers/transports/poll-body.ts), a random one of each kind */
  let epoch = '';
  function randomAnswer(r: () => number, epochs: string[]): string {
    // the server's epoch changes now and then (a restart)
    if (epoch === '' || r() < 0.05) epoch = epochs[Math.floor(r() * epochs.length)];
    const next = r() < 0.2 ? Math.floor(r() * 1e15) : Math.floor(r() * 1000);
    const messages = r() < 0.6 ? [] : Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => msg(next - i, epoch));
    const gap = r() < 0.1 ? { from: 1, to: 2 } : undefined;
    return pollBody(epoch, { messages, next, gap });
  }

  it('agrees with answer() on 5,000 reference answers, reading those in its epoch without parsing text', () => {
    const r = seededRandom(7);
    const epochs = ['MfYAKj9_', 'e2', 'with"quote', 'ünï'];
    const a = sink();
    const b = sink();
    const text = new Cursor(a.events);
    const bytes = new Counting(b.events);
    let emptyInEpoch = 0;
    let withMessagesInEpoch = 0;
    for (let k = 0; k < 5_000; k++) {
      const body = randomAnswer(r, epochs);
      const before = bytes.epoch;
      const want = text.answer(body, k);
      const parsedBefore = bytes.parsed;
      expect(bytes.answerBytes(Buffer.from(body), k), body).toBe(want);
      expect([bytes.epoch, bytes.seq, bytes.query()]).toEqual([text.epoch, text.seq, text.query()]);
      const parsed = JSON.parse(body) as { epoch: string; messages: WireMessage[]; gap: boolean };
      // messages are read from bytes when their strings are plain (no escapes, ASCII) and their
      // numbers plain non-negative integers
      const plain = /^[\x20-\x7e]*$/.test(parsed.epoch) && !/["\\]/.test(parsed.epoch) && parsed.messages.every((m) => m.seq >= 0);
      if (!parsed.gap && parsed.epoch === before && (parsed.messages.length === 0 || plain)) {
        if (parsed.messages.length === 0) emptyInEpoch++;
        else withMessagesInEpoch++;
        expect(bytes.parsed, `read without text: ${body}`).toBe(parsedBefore);
      } else {
        expect(bytes.parsed, `read as text: ${body}`).toBe(parsedBefore + 1);
      }
    }
    expect(emptyInEpoch).toBeGreaterThan(2_000);
    expect(withMessagesInEpoch).toBeGreaterThan(700);
    expect(b.got).toEqual(a.got);
  });

  it.each([
    ['an empty answer', '{"epoch":"MfYAKj9_","next":4217,"gap":false,"messages":[]}'],
    ['an answer with messages', pollBody('MfYAKj9_', { messages: [msg(4216, 'MfYAKj9_'), msg(4217, 'MfYAKj9_')], next: 4217 })],
  ])('declines to the text path on any change to %s (20,000 mutations)', (_, base) => {
    const r = seededRandom(8);
    const alphabet = '{}[]":,0123456789 -+.eEtrufalsnxMfYAKj9_\\\n';
    for (let k = 0; k < 20_000; k++) {
      const chars = [...base];
      for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
        const at = Math.floor(r() * (chars.length + 1));
        const c = alphabet[Math.floor(r() * alphabet.length)];
        const op = r();
        if (op < 0.4) chars[at] = c;
        else if (op < 0.7) chars.splice(at, 0, c);
        else chars.splice(at, 1);
      }
      const body = chars.join('');
      // both cursors start in the epoch, at the same seq
      const a = sink();
      const b = sink();
      const text = new Cursor(a.events);
      const bytes = new Cursor(b.events);
      text.answer(base, 0);
      bytes.answer(base, 0);
      const want = text.answer(body, 1);
      expect(bytes.answerBytes(Buffer.from(body), 1), body).toBe(want);
      expect([bytes.epoch, bytes.seq], body).toEqual([text.epoch, text.seq]);
      expect(b.got, body).toEqual(a.got);
    }
  });

  it('reads the fields it must: a leading zero, a sign or an exponent goes to JSON.parse', () => {
    const { events } = sink();
    const c = new Counting(events);
    c.answer('{"epoch":"e","next":5,"gap":false,"messages":[]}', 0);
    for (const [body, seq, parsed] of [
      ['{"epoch":"e","next":6,"gap":false,"messages":[]}', 6, 0],
      ['{"epoch":"e","next":0,"gap":false,"messages":[]}', 0, 0],
      ['{"epoch":"e","next":07,"gap":false,"messages":[]}', 0, 1], // not JSON: BAD answer, seq kept
      ['{"epoch":"e","next":1e3,"gap":false,"messages":[]}', 1000, 1],
      ['{"epoch":"e","next":-1,"gap":false,"messages":[]}', -1, 1],
      ['{"epoch":"e", "next":8,"gap":false,"messages":[]}', 8, 1],
    ] as const) {
      const before = c.parsed;
      c.answerBytes(Buffer.from(body), 1);
      expect(c.seq, body).toBe(seq);
      expect(c.parsed - before, body).toBe(parsed);
    }
  });
});

describe('Cursor.path (a poll\'s path)', () => {
  it('follows the cursor, and is the same string while it stands still', () => {
    const { events } = sink();
    const c = new Cursor(events);
    expect(c.path('/poll?topic=t')).toBe('/poll?topic=t');
    c.answer('{"epoch":"a b","next":3,"gap":false,"messages":[]}', 0);
    const p = c.path('/poll?topic=t');
    expect(p).toBe('/poll?topic=t&since=3&epoch=a%20b');
    c.answerBytes(Buffer.from('{"epoch":"a b","next":3,"gap":false,"messages":[]}'), 1);
    expect(c.path('/poll?topic=t')).toBe(p);
    c.answerBytes(Buffer.from('{"epoch":"a b","next":4,"gap":false,"messages":[]}'), 2);
    expect(c.path('/poll?topic=t')).toBe('/poll?topic=t&since=4&epoch=a%20b');
    expect(c.path('/long-poll?topic=t')).toBe('/long-poll?topic=t&since=4&epoch=a%20b');
    c.advance('e2', 4);
    expect(c.path('/poll?topic=t')).toBe('/poll?topic=t&since=4&epoch=e2');
    expect(c.query()).toBe('&since=4&epoch=e2');
  });
});
