/**
 * Target profiles: validation lists every problem with its JSON path; the built-in reference
 * profile and the example profiles are valid; extraction finds tokens in every shape a profile
 * can describe; `pushbench run` refuses a bad profile with exit 2 and every problem listed.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, expand, loadProfile, validateProfile } from '../../../load/target/profile.ts';
import { extractMessages, multipartBoundary } from '../../../load/target/extract.ts';
import { FOREIGN, decodeToken, encodeToken } from '../../../load/target/token.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProfilePublisher, publisherProblems } from '../../../load/target/publisher.ts';
import { nowUs, type WireMessage } from '../../../core/wire.ts';
import { pushbench } from '../../cli.ts';
import { parseOptions } from '../../../core/options.ts';
import { RUN_OPTION_SPECS, loadSettings } from '../../../cli/run-options.ts';

const EXAMPLES = new URL('../../../examples/profiles/', import.meta.url).pathname;

/** A profile with one problem in each part that is checked. */
const BAD = {
  name: '',
  publish: { method: 'GET', url: 'topics/{topic}', body: '{"x":"{data}"}', headers: { 'bad header': 'v' } },
  transports: {
    sse: { url: '/s/{topic}', split: { delimiter: '\n' }, cursor: { style: 'query', param: 'since', from: 'json:next' } },
    ws: { url: '/w/{room}', json: 'a..b' },
    'long-poll': { url: '/lp/{topic}', emptyStatus: [500], cursor: { style: 'query', param: '', from: 'body' } },
    'short-poll': { headers: 'x' },
    carrier: { url: '/p' },
  },
  extra: true,
};

describe('profile validation', () => {
  it('lists every problem at once, each with its JSON path', () => {
    const { problems } = validateProfile(BAD);
    const expected = [
      '$.extra: unknown field',
      '$.name: must be a non-empty string',
      '$.publish.method: must be one of POST, PUT, PATCH',
      '$.publish.url: must be a path on the target starting with "/"',
      '$.publish.headers.bad header: is not a valid header name',
      '$.publish.body: unknown placeholder {data}',
      '$.publish.body: must contain {payload}',
      '$.transports.sse.split: Server-Sent Events is split by its own events',
      '$.transports.sse.cursor.style: Server-Sent Events resumes with "last-event-id" or "none", not "query"',
      '$.transports.ws.url: unknown placeholder {room}',
      '$.transports.ws.json: must be a dotted field path',
      '$.transports.long-poll.cursor.param: must name the query parameter',
      '$.transports.long-poll.cursor.from: must say where the next cursor is found',
      '$.transports.long-poll.emptyStatus: must be a list of HTTP statuses between 200 and 399',
      '$.transports.short-poll.url: must be a non-empty string',
      '$.transports.short-poll.headers: must be an object',
      '$.transports.carrier: unknown transport',
    ];
    for (const e of expected) expect(problems.some((p) => p.startsWith(e)), `${e}\nin:\n${problems.join('\n')}`).toBe(true);
    expect(problems).toHaveLength(expected.length);
  });

  it('WebSocket: resumes with a query cursor taken from the message (json:), nothing else', () => {
    const ws = (cursor: unknown) => validateProfile({ publish: { method: 'POST', url: '/p', body: '{payload}' }, transports: { ws: { url: '/w', cursor } } }).problems;
    expect(ws({ style: 'query', param: 'since', from: 'json:id' })).toEqual([]);
    expect(ws({ style: 'none' })).toEqual([]);
    expect(ws({ style: 'query', param: 'since', from: 'header:X-Next' })).toEqual([
      '$.transports.ws.cursor.from: a WebSocket message has no headers; take the cursor from the message with "json:<path>" (got "header:X-Next")',
    ]);
    expect(ws({ style: 'caching' })).toEqual(['$.transports.ws.cursor.style: WebSocket resumes with "none" or "query", not "caching"']);
    expect(ws({ style: 'last-event-id' })).toEqual(['$.transports.ws.cursor.style: WebSocket resumes with "none" or "query", not "last-event-id"']);
  });

  it('drain: a boolean, for a poll on a schedule only', () => {
    const on = (t: string, drain: unknown) => validateProfile({ publish: { method: 'POST', url: '/p', body: '{payload}' }, transports: { [t]: { url: '/x', drain } } });
    expect(on('short-poll', true).problems).toEqual([]);
    expect(on('short-poll', true).profile.transports['short-poll']?.drain).toBe(true);
    expect(on('short-poll', 'yes').problems).toEqual(['$.transports.short-poll.drain: must be true or false']);
    expect(on('long-poll', true).problems).toEqual(['$.transports.long-poll.drain: long polling polls again at once after every answer already; leave "drain" out']);
    expect(on('sse', true).problems).toEqual(['$.transports.sse.drain: only a poll on a schedule drains (Server-Sent Events is not polled)']);
  });

  it('accepts the built-in reference profile and every example profile', () => {
    for (const name of Object.keys(BUILTIN_PROFILES)) expect(loadProfile(`builtin:${name}`).problems).toEqual([]);
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(loadProfile(join(EXAMPLES, f)).problems).toEqual([]);
  });

  it('says why a file cannot be used: missing, not JSON, unknown built-in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-profile-'));
    writeFileSync(join(dir, 'broken.json'), '{"publish": ');
    expect(loadProfile(join(dir, 'nope.json')).problems[0]).toMatch(/cannot read the file \(ENOENT\)/);
    expect(loadProfile(join(dir, 'broken.json')).problems[0]).toMatch(/not valid JSON/);
    expect(loadProfile('builtin:nginx').problems[0]).toMatch(/no built-in profile "nginx" \(built in: reference\)/);
  });

  it('expands templates, URL-encoding only where asked', () => {
    expect(expand('/t/{topic}?w={timeoutMs}', { topic: 'a b', timeoutMs: 500 }, true)).toBe('/t/a%20b?w=500');
    expect(expand('{"d":"{payload}"}', { payload: 'pb|r1|1|2|t|' })).toBe('{"d":"pb|r1|1|2|t|"}');
  });
});

describe('token and extraction', () => {
  const tok = (seq: number, run = 'e') => encodeToken(run, seq, 1_000_000 + seq, 't0', 40);

  it('pads the token to the payload size and decodes it wherever it is wrapped', () => {
    expect(tok(7)).toHaveLength(40);
    expect(tok(7).startsWith('pb|e|7|1000007|t0|x')).toBe(true);
    expect(decodeToken(`{"msg":"${tok(7)}","extra":1}`, 'e')).toEqual({ seq: 7, ts: 1_000_007, topic: 't0', epoch: 'e', data: tok(7) });
    expect(decodeToken('nothing here', 'e')).toBeUndefined();
    // a chat token names its sender, whose own seq it carries
    const chat = encodeToken('e', 5, 2_000_000, 'room-1', 40, 17);
    expect(chat).toBe(`pb|e|5|2000000|room-1|17|${'x'.repeat(40 - 'pb|e|5|2000000|room-1|17|'.length)}`);
    expect(decodeToken(`{"text":"${chat}"}`, 'e')).toEqual({ seq: 5, ts: 2_000_000, topic: 'room-1', epoch: 'e', data: chat, source: '17' });
  });

  it('calls another run\'s token foreign, also one of the format before run ids', () => {
    expect(decodeToken(tok(7, 'other1'), 'e')).toBe(FOREIGN);
    // an all-digit run id does not make an old token look like this run's
    expect(decodeToken(encodeToken('123456', 3, 9_000_000, 't0', 40), '123456')).toMatchObject({ seq: 3, ts: 9_000_000 });
    expect(decodeToken('pb|12|1000012|t0|xxxx', '12')).toBe(FOREIGN);
    expect(decodeToken('pb|5|2000000|room-1|17|xxx', 'e')).toBe(FOREIGN);
  });

  it('skips another run\'s messages, counts them, and still takes the cursor from the last piece', () => {
    const body = [tok(1, 'old'), tok(2, 'old'), tok(1), tok(9, 'old')].map((t, i) => JSON.stringify({ id: 40 + i, text: t })).join('\n');
    const got = extractMessages(body, { delimiter: '\n' }, 'text', 'e', undefined, 'id');
    expect(got).toMatchObject({ foreign: 3, cursor: '43' });
    expect('messages' in got && got.messages.map((m) => m.seq)).toEqual([1]);
  });

  it('splits by delimiter, then takes a JSON field', () => {
    const body = `${JSON.stringify({ text: tok(1) })}\n${JSON.stringify({ text: tok(2) })}\n`;
    const got = extractMessages(body, { delimiter: '\n' }, 'text', 'e');
    expect('messages' in got && got.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('takes every element of an array path', () => {
    const got = extractMessages(JSON.stringify({ next: 3, messages: [{ data: tok(2) }, { data: tok(3) }] }), undefined, 'messages[].data', 'e');
    expect('messages' in got && got.messages.map((m) => m.seq)).toEqual([2, 3]);
  });

  it('reads the parts of a multipart body by the boundary in its Content-Type', () => {
    const ct = 'multipart/mixed; boundary="b-1"';
    expect(multipartBoundary(ct)).toBe('b-1');
    const body = `preamble\r\n--b-1\r\ncontent-type: text/plain\r\n\r\n${tok(4)}\r\n--b-1\r\n\r\n${tok(5)}\r\n--b-1--\r\n`;
    const got = extractMessages(body, { multipart: true }, undefined, 'e', ct);
    expect('messages' in got && got.messages.map((m) => m.seq)).toEqual([4, 5]);
    expect(extractMessages(body, { multipart: true }, undefined, 'e', 'text/plain')).toEqual({ problem: expect.stringMatching(/a multipart body with a boundary=/) });
  });

  it('says what was expected when the shape is wrong', () => {
    expect(extractMessages('{"other":1}', undefined, 'data', 'e')).toEqual({ problem: 'a JSON object with a field "data" (path data) (got "{\\"other\\":1}")' });
    expect(extractMessages('not json', undefined, 'data', 'e')).toEqual({ problem: expect.stringMatching(/^JSON with the field data/) });
    expect(extractMessages('{"data":"hello"}', undefined, 'data', 'e')).toEqual({ problem: expect.stringMatching(/pushbench's token .* \(got "hello"\)/) });
  });
});

describe('pushbench run --profile (validation)', () => {
  it('exits 2 and lists every problem of the profile and its use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-profile-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(BAD));
    const r = await pushbench(['run', '--transport', 'sse', '--profile', file, '--workload', 'chat', '--rate', '1', '--clients', '2', '--out', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--profile ${file}: $.publish.method: must be one of POST, PUT, PATCH`);
    expect(r.stderr).toContain('$.transports.carrier: unknown transport');
    expect(r.stderr).toContain('give its address with --target URL');
    const listed = r.stderr.split('\n').filter((l) => l.startsWith('  - ')).length;
    expect(listed).toBe(validateProfile(BAD).problems.length + 1);
  });

  it('--topic-prefix: token-safe characters, with --profile only', () => {
    const problems = (argv: string[]) => {
      const parsed = parseOptions([...argv, '--out', mkdtempSync(join(tmpdir(), 'pb-prefix-'))], RUN_OPTION_SPECS);
      const out = [...parsed.problems];
      const s = loadSettings(parsed.values, 'sse', out);
      return { problems: out, prefix: s.topicPrefix };
    };
    const target = ['--target', 'http://127.0.0.1:9', '--profile', join(EXAMPLES, 'shaped-server.json')];
    expect(problems([...target, '--topic-prefix', ''])).toEqual({ problems: [], prefix: '' });
    expect(problems([...target, '--topic-prefix', 'bench.1_'])).toEqual({ problems: [], prefix: 'bench.1_' });
    expect(problems(target).prefix).toBeUndefined();
    expect(problems([...target, '--topic-prefix', 'a b/c']).problems).toEqual(['--topic-prefix must be at most 40 of A-Z a-z 0-9 . _ ~ - (got "a b/c")']);
    expect(problems(['--topic-prefix', 'x-']).problems).toEqual([expect.stringMatching(/^--topic-prefix names the topics pushbench publishes to with --profile; the reference server's own publisher names its topics t0/)]);
  });

  it('refuses a profile that does not describe the transport asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-profile-'));
    const file = join(dir, 'sse-only.json');
    writeFileSync(file, JSON.stringify({ publish: { method: 'POST', url: '/p/{topic}', body: '{payload}' }, transports: { sse: { url: '/s/{topic}' } } }));
    const r = await pushbench(['run', '--transport', 'ws', '--target', 'http://127.0.0.1:9', '--profile', file, '--out', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('describes no ws subscription ($.transports.ws); it has sse');
  });
});

describe('the profile publisher', () => {
  it('publishes each topic on a fixed schedule with consecutive seqs and scheduled timestamps', async () => {
    const bodies: { method: string; url: string; body: string }[] = [];
    let fail = false;
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        bodies.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.writeHead(fail ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const publish = { method: 'PUT' as const, url: '/q/{topic}', headers: { 'content-type': 'application/json' }, body: '{"m":"{payload}","t":"{topic}"}' };
      const startUs = nowUs() + 50_000;
      const p = new ProfilePublisher({ baseUrl: url, publish, topics: ['a', 'b'], ratePerS: 20, payloadBytes: 48, startUs, stopUs: startUs + 500_000, run: 'e' });
      p.start();
      await new Promise((r) => setTimeout(r, 800));
      await p.close();
      // 2 topics × 20 msg/s × 0.5 s
      expect(bodies).toHaveLength(20);
      expect(p.stats()).toMatchObject({ published: 20, failed: 0, judged: 20 });
      for (const topic of ['a', 'b']) {
        const mine = bodies.filter((b) => b.url === `/q/${topic}`).map((b) => JSON.parse(b.body) as { m: string; t: string });
        expect(mine.every((b) => b.t === topic && b.m.length === 48)).toBe(true);
        const msgs = mine.map((b) => decodeToken(b.m, 'e') as WireMessage);
        expect(msgs.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        // timestamps are the schedule's (50 ms apart per topic, topic b 25 ms after topic a), not send times
        const first = topic === 'a' ? startUs : startUs + 25_000;
        msgs.forEach((m, i) => expect(Math.abs(m.ts - (first + i * 50_000))).toBeLessThanOrEqual(1));
      }
      expect(bodies.every((b) => b.method === 'PUT')).toBe(true);
      fail = true;
      const q = new ProfilePublisher({ baseUrl: url, publish, topics: ['a'], ratePerS: 20, payloadBytes: 48, startUs: nowUs(), stopUs: nowUs() + 120_000, run: 'e' });
      q.start();
      await new Promise((r) => setTimeout(r, 250));
      await q.close();
      expect(q.stats().failed).toBeGreaterThan(0);
      expect(publisherProblems(q.stats())[0]).toMatch(/failed to publish \d+ message\(s\) \(HTTP_500 × \d+\)/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('calls a run invalid when more than 1 % of its sends were over 100 ms late', () => {
    const base = { published: 1000, failed: 0, errors: {}, inFlight: 0, judged: 1000, maxLateUs: 300_000, lateUs: { p50: 1000, p99: 200_000 } };
    expect(publisherProblems({ ...base, lateSends: 10 })).toEqual([]);
    expect(publisherProblems({ ...base, lateSends: 11 })[0]).toMatch(/11 of 1000 messages went out more than 100 ms late \(at worst 300 ms/);
  });
});
