import { describe, expect, it } from 'vitest';
import { BAD_MESSAGE, Cursor } from '../../load/drivers/cursor.ts';
import { encodeMessage, type WireMessage } from '../../servers/wire.ts';
import type { ClientEvents } from '../../load/drivers/types.ts';

function sink() {
  const got = { messages: [] as [WireMessage, number][], gaps: 0, errors: [] as string[] };
  const events: ClientEvents = {
    connected: () => {},
    message: (msg, recvUs) => got.messages.push([msg, recvUs]),
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
