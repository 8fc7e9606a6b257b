import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../../load/drivers/sse-parser.ts';

interface Ev {
  type: string;
  data: string;
  id: string;
}

/** `text`: strings and the text path; `bytes`: the byte path; `one pass`: the byte path with an in-place reader. */
type Path = 'text' | 'bytes' | 'one pass';

/**
 * Parse `chunks` on `path`; the byte path's byte-range messages and the reader's in-place ones are
 * turned back into events here so the paths can be compared. The reader accepts a value of
 * printable ASCII (what a contract message is made of), up to the first other byte.
 */
function parseChunks(chunks: (string | Buffer)[], path: Path | boolean = 'text'): { events: Ev[]; retries: number[]; byteMessages: number; inPlace: number } {
  const mode: Path = path === true ? 'bytes' : path === false ? 'text' : path;
  const events: Ev[] = [];
  const retries: number[] = [];
  let byteMessages = 0;
  let inPlace = 0;
  let read = '';
  const p: SseParser = new SseParser(
    (type, data, id) => events.push({ type, data, id }),
    (ms) => retries.push(ms),
    mode !== 'text'
      ? (buf, start, end) => {
          byteMessages++;
          events.push({ type: 'message', data: buf.toString('utf8', start, end), id: p.lastEventId });
        }
      : undefined,
    mode === 'one pass'
      ? {
          readInPlace: (buf, from, to) => {
            let i = from;
            while (i < to && buf[i]! >= 0x20 && buf[i]! <= 0x7e) i++;
            read = buf.toString('latin1', from, i);
            return i;
          },
          deliverInPlace: () => {
            inPlace++;
            events.push({ type: 'message', data: read, id: p.lastEventId });
          },
        }
      : undefined,
  );
  for (const c of chunks) p.push(c);
  return { events, retries, byteMessages, inPlace };
}

describe.each<[string, Path]>([
  ['text path', 'text'],
  ['byte path', 'bytes'],
  ['one pass', 'one pass'],
])('SseParser: spec examples (%s)', (_name, path) => {
  const bytes = path !== 'text';
  // On the byte paths every chunk is given as bytes, as undici hands them over.
  const parse = (chunks: (string | Buffer)[]) => parseChunks(chunks.map((c) => (bytes && typeof c === 'string' ? Buffer.from(c) : c)), path);

  it('joins multi-line data with LF and defaults the type to message', () => {
    // The spec's stock-ticker style example: two data lines make one event.
    const { events } = parse(['data: YHOO\ndata: +2\ndata: 10\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'YHOO\n+2\n10', id: '' }]);
  });

  it('treats CRLF, LF and CR alike', () => {
    for (const eol of ['\r\n', '\n', '\r']) {
      const { events } = parse([`event: add${eol}id: 7${eol}data: a${eol}data: b${eol}${eol}data: c${eol}${eol}`]);
      expect(events).toEqual([
        { type: 'add', data: 'a\nb', id: '7' },
        { type: 'message', data: 'c', id: '7' },
      ]);
    }
  });

  it('ignores comments, unknown fields and drops only one leading space', () => {
    const { events } = parse([': heartbeat\nfoo: bar\ndata:  two spaces\ndata:none\n\n']);
    expect(events).toEqual([{ type: 'message', data: ' two spaces\nnone', id: '' }]);
  });

  it('handles fields without a colon (empty value) like the spec example', () => {
    // "data\n\ndata\ndata\n\ndata:" → events "", "\n"; the last, unterminated, is not dispatched.
    const { events } = parse(['data\n\ndata\ndata\n\ndata:']);
    expect(events.map((e) => e.data)).toEqual(['', '\n']);
  });

  it('does not dispatch an event without data but still records its id', () => {
    const { events } = parse(['id: 5\n\ndata: x\n\n', 'id\n\ndata: y\n\n']);
    expect(events).toEqual([
      { type: 'message', data: 'x', id: '5' },
      { type: 'message', data: 'y', id: '' },
    ]);
  });

  it('ignores an id containing NUL and keeps the previous one', () => {
    const { events } = parse(['id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n']);
    expect(events.map((e) => e.id)).toEqual(['1', '1']);
  });

  it('accepts retry only when it is all ASCII digits', () => {
    const { retries, events } = parse(['retry: 1500\nretry: 2s\nretry: -1\nretry\nretry: 20\n\n']);
    expect(retries).toEqual([1500, 20]);
    expect(events).toEqual([]);
  });

  it('strips one leading BOM, only at stream start', () => {
    const { events } = parse([Buffer.from([0xef, 0xbb]), Buffer.from([0xbf]), 'data: a\n\n\ufeffdata: b\n\n']);
    expect(events.map((e) => e.data)).toEqual(['a']); // the second BOM makes "\ufeffdata" an unknown field
  });

  it('never dispatches a trailing incomplete event', () => {
    const { events } = parse(['data: done\n\ndata: half\n']);
    expect(events.map((e) => e.data)).toEqual(['done']);
  });

  it('joins a CRLF split across chunks into one line break', () => {
    const { events } = parse(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    expect(events).toEqual([{ type: 'message', data: 'a\nb', id: '' }]);
  });

  it('joins a long line that arrives in many chunks', () => {
    const line = '€x'.repeat(50_000);
    const bytes = Buffer.from(`id: 1\ndata: ${line}\n\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 999) chunks.push(bytes.subarray(at, at + 999));
    const { events } = parse(chunks);
    expect(events).toEqual([{ type: 'message', data: line, id: '1' }]);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('data: é€😀\n\n');
    const { events } = parse([...bytes].map((b) => Buffer.from([b])));
    expect(events[0].data).toBe('é€😀');
  });

  it('forgets the partial event on reset() and keeps the last event id', () => {
    const events: Ev[] = [];
    const p: SseParser = new SseParser(
      (type, data, id) => events.push({ type, data, id }),
      undefined,
      bytes ? (buf, start, end) => events.push({ type: 'message', data: buf.toString('utf8', start, end), id: p.lastEventId }) : undefined,
    );
    const chunk = (t: string) => (bytes ? Buffer.from(t) : t);
    p.push(chunk('id: e:3\ndata: one\n\ndata: cut'));
    p.reset();
    p.push(chunk('\ufeffdata: two\n\n'));
    expect(events).toEqual([
      { type: 'message', data: 'one', id: 'e:3' },
      { type: 'message', data: 'two', id: 'e:3' },
    ]);
  });
});

describe('SseParser: one pass', () => {
  it('reads [id] + one data line events in place and hands the rest to the line path, in order', () => {
    const chunks = [
      'retry: 5\n\n', // the stream's first chunk goes the line path (a BOM may start it)
      'id: e:1\ndata: {"a":1}\n\nid: e:2\ndata:x\n\n', // two in place
      'data: \u00e9\n\n', // not the reader's: the byte path
      'id: e:3\ndata: y\n\n: c\n\ndata: z\n\n', // in place, then a comment stops the pass
      'id: e:4\nevent: add\ndata: w\n\n', // another field: the line path
      'data: v\n\nid: e:5\ndata: u\n', // in place, then a cut event waits for its blank line
      '\nid\ndata: t\n\n', // its end; then an empty id (no colon)
      'id: a\u0000b\ndata: s\n\n', // an id with NUL is ignored, not read in place
    ].map((c) => Buffer.from(c));
    const r = parseChunks(chunks, 'one pass');
    expect(r.events).toEqual([
      { type: 'message', data: '{"a":1}', id: 'e:1' },
      { type: 'message', data: 'x', id: 'e:2' },
      { type: 'message', data: '\u00e9', id: 'e:2' },
      { type: 'message', data: 'y', id: 'e:3' },
      { type: 'message', data: 'z', id: 'e:3' },
      { type: 'add', data: 'w', id: 'e:4' },
      { type: 'message', data: 'v', id: 'e:4' },
      { type: 'message', data: 'u', id: 'e:5' },
      { type: 'message', data: 't', id: '' },
      { type: 'message', data: 's', id: '' },
    ]);
    expect(r.events).toEqual(parseChunks(chunks, 'bytes').events);
    expect(r.inPlace).toBe(4);
    expect(r.retries).toEqual([5]);
  });
});

// Values that survive a round trip: no line breaks (data lines split on them), no NUL in ids.
const fieldText = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ':', 'é', '€', '😀', '{', '"', '1'), maxLength: 12 });
const eventArb = fc.record({
  type: fc.option(fc.constantFrom('message', 'gap', 'add', 'x y'), { nil: undefined }),
  id: fc.option(fieldText, { nil: undefined }),
  dataLines: fc.array(fieldText, { minLength: 1, maxLength: 4 }),
  comment: fc.option(fieldText, { nil: undefined }),
  retry: fc.option(fc.nat({ max: 99_999 }), { nil: undefined }),
});

describe('SseParser: any chunking of any valid stream gives the same events', () => {
  it('property', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 20 }),
        (events, eol, bom, cutSeeds) => {
          let text = bom ? '\ufeff' : '';
          const expected: Ev[] = [];
          const expectedRetries: number[] = [];
          let lastId = '';
          for (const e of events) {
            if (e.comment !== undefined) text += `:${e.comment}${eol}`;
            if (e.type !== undefined) text += `event: ${e.type}${eol}`;
            if (e.id !== undefined) {
              text += `id: ${e.id}${eol}`;
              lastId = e.id;
            }
            if (e.retry !== undefined) {
              text += `retry: ${e.retry}${eol}`;
              expectedRetries.push(e.retry);
            }
            for (const line of e.dataLines) text += `data: ${line}${eol}`;
            text += eol;
            expected.push({ type: e.type ?? 'message', data: e.dataLines.join('\n'), id: lastId });
          }
          const bytes = Buffer.from(text);
          const cuts = [...new Set(cutSeeds.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let from = 0;
          for (const c of [...cuts, bytes.length]) {
            chunks.push(bytes.subarray(from, c));
            from = c;
          }
          for (const path of ['text', 'bytes', 'one pass'] as const) {
            const whole = parseChunks([bytes], path);
            const chunked = parseChunks(chunks, path);
            expect(whole.events).toEqual(expected);
            expect(chunked.events).toEqual(expected);
            expect(chunked.retries).toEqual(expectedRetries);
            // LF streams stay on the byte path: their one-line messages never become strings there.
            const oneLine = expected.filter((e, k) => e.type === 'message' && events[k]!.dataLines.length === 1).length;
            if (path !== 'text' && eol === '\n') expect(chunked.byteMessages + chunked.inPlace).toBe(oneLine);
            if (eol !== '\n') expect(chunked.byteMessages + chunked.inPlace).toBe(0);
            if (path !== 'one pass') expect(chunked.inPlace).toBe(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
