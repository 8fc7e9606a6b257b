import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type WireMessage } from '../../core/wire.ts';

describe('decodeMessage', () => {
  const m: WireMessage = { seq: 7, ts: 1_234_567, topic: 't0', epoch: 'e1', data: 'héllo "x"' };

  it('round-trips what encodeMessage writes', () => {
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('sets a missing or non-string data to the empty string and keeps extra fields', () => {
    // No copy is made on the hot path: the parsed object is returned as it is, fixed up in place.
    expect(decodeMessage('{"seq":1,"ts":2,"topic":"t","epoch":"e"}')).toEqual({ seq: 1, ts: 2, topic: 't', epoch: 'e', data: '' });
    expect(decodeMessage('{"seq":1,"ts":2,"topic":"t","epoch":"e","data":5,"extra":true}')).toEqual({ seq: 1, ts: 2, topic: 't', epoch: 'e', data: '', extra: true });
  });

  it('refuses what is not a contract message', () => {
    for (const text of ['', 'nope', '[]', 'null', '7', '{"seq":"1","ts":2,"topic":"t","epoch":"e"}', '{"seq":1,"ts":2,"topic":"t"}', '{"type":"gap","topic":"t","epoch":"e","from":1,"to":2}']) {
      expect(decodeMessage(text), text).toBeUndefined();
    }
  });
});
