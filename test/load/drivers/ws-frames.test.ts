/**
 * The WebSocket driver's own frame reader (load/drivers/ws-frames.ts) against a raw server of this
 * test that writes the frames' bytes itself: chunked anywhere, with the frames the reader leaves
 * to `ws` (ping, fragments, masked, close) in between.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DRIVERS } from '../../../load/drivers/index.ts';
import type { ClientSpec } from '../../../load/drivers/types.ts';
import { FrameReader } from '../../../load/drivers/ws-frames.ts';
import { encodeMessage, nowUs } from '../../../core/wire.ts';
import { EventLog, sleep, waitFor } from './helpers.ts';

/** One frame's bytes as a server would send it (unmasked unless `mask`). */
function frame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; mask?: boolean; rsv?: number; len64?: boolean } = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const b0 = ((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode;
  const maskBit = opts.mask ? 0x80 : 0;
  let head: Buffer;
  if (opts.len64) {
    head = Buffer.alloc(10);
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(body.length), 2);
  } else if (body.length < 126) {
    head = Buffer.from([0, maskBit | body.length]);
  } else {
    head = Buffer.alloc(4);
    head[1] = maskBit | 126;
    head.writeUInt16BE(body.length, 2);
  }
  head[0] = b0;
  if (!opts.mask) return Buffer.concat([head, body]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(body.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, masked]);
}

const text = (s: string) => frame(0x1, s);
const message = (seq: number, data = `d${seq}`) => encodeMessage({ seq, ts: nowUs(), topic: 't0', epoch: 'e1', data });

/** A server that upgrades every request and hands the raw socket (and the client's frames) to the test. */
interface RawServer {
  url: string;
  /** the next upgraded connection: its socket, and every byte the client sent after the handshake */
  next(): Promise<{ socket: net.Socket; received: Buffer[] }>;
  close(): Promise<void>;
}

async function rawServer(opts: { firstBytes?: Buffer } = {}): Promise<RawServer> {
  const waiting: ((c: { socket: net.Socket; received: Buffer[] }) => void)[] = [];
  const ready: { socket: net.Socket; received: Buffer[] }[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer();
  server.on('upgrade', (req, socket: net.Socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
    // The handshake and the first frames in one write: ws gets them as the upgrade's `head`.
    socket.write(opts.firstBytes ? Buffer.concat([Buffer.from(response), opts.firstBytes]) : response);
    const conn = { socket, received: [] as Buffer[] };
    socket.on('data', (b: Buffer) => conn.received.push(b));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const w = waiting.shift();
    if (w) w(conn);
    else ready.push(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/ws`,
    next: () => {
      const c = ready.shift();
      return c ? Promise.resolve(c) : new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A ws client with the reader attached on open; `frames` collects what the reader and ws delivered. */
function client(url: string) {
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  const frames: { text: string; via: 'reader' | 'ws' }[] = [];
  const state = { reader: null as FrameReader | null, attached: false, closeCode: 0, error: '' };
  ws.on('open', () => {
    state.reader = FrameReader.attach(ws, (buf, from, to) => frames.push({ text: buf.toString('utf8', from, to), via: 'reader' }));
    state.attached = state.reader !== null;
  });
  ws.on('message', (data, isBinary) => frames.push({ text: isBinary ? `binary:${(data as Buffer).length}` : (data as Buffer).toString(), via: 'ws' }));
  ws.on('close', (code) => (state.closeCode = code));
  ws.on('error', (err) => (state.error = (err as Error & { code?: string }).code ?? err.message));
  return { ws, frames, state };
}

describe('ws frame reader', () => {
  let srv: RawServer;
  const open: WebSocket[] = [];
  beforeAll(async () => {
    srv = await rawServer();
  });
  afterEach(() => {
    for (const ws of open.splice(0)) ws.terminate();
  });
  afterAll(() => srv.close());

  /** Connects a client and waits for the server's side of it. */
  async function connect() {
    const c = client(srv.url);
    open.push(c.ws);
    const conn = await srv.next();
    await waitFor(() => c.state.attached, 'the reader to attach (ws internals it knows)');
    return { ...c, conn };
  }

  it('reads text frames of 7- and 16-bit lengths, however the bytes are chunked', async () => {
    const c = await connect();
    const payloads = ['a', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(300), 'w'.repeat(65_535), message(7)];
    const bytes = Buffer.concat(payloads.map(text));
    // All at once, then the same bytes in pieces of 1, 2, 3 … bytes (cut inside headers and payloads).
    c.conn.socket.write(bytes);
    await waitFor(() => c.frames.length === payloads.length, 'the frames written at once');
    let at = 0;
    for (let n = 1; at < bytes.length; n = (n % 7) + 1) {
      const piece = at < 200 ? n : 4096; // byte-sized pieces over the small frames, then bigger ones
      c.conn.socket.write(bytes.subarray(at, at + piece));
      at += piece;
      if (at < 200) await sleep(1);
    }
    await waitFor(() => c.frames.length === 2 * payloads.length, 'the frames written in pieces');
    expect(c.frames.map((f) => f.text)).toEqual([...payloads, ...payloads]);
    expect(c.frames.every((f) => f.via === 'reader')).toBe(true);
    expect(c.state.reader!.handedOver).toBe(0);
  });

  it('leaves a ping to ws (which answers it) and reads the frames after it itself', async () => {
    const c = await connect();
    c.conn.socket.write(Buffer.concat([text('one'), frame(0x9, 'beat'), text('two')]));
    await waitFor(() => c.frames.length === 2, 'two frames');
    c.conn.socket.write(text('three'));
    await waitFor(() => c.frames.length === 3, 'the frame after the ping');
    expect(c.frames).toEqual([{ text: 'one', via: 'reader' }, { text: 'two', via: 'ws' }, { text: 'three', via: 'reader' }]);
    // the pong (masked, as a client's frames are) carries the ping's payload
    await waitFor(() => Buffer.concat(c.conn.received).length >= 2 + 4 + 4, 'the pong');
    const pong = Buffer.concat(c.conn.received);
    expect(pong[0]).toBe(0x8a);
    expect(pong[1]).toBe(0x80 | 4);
    expect(Buffer.from(pong.subarray(6, 10).map((b, i) => b ^ pong[2 + (i % 4)]!)).toString()).toBe('beat');
    expect(c.state.reader!.handedOver).toBe(1);
    expect(c.state.reader!.framesRead).toBe(2);
  });

  it('leaves a fragmented message, a binary frame and a 64-bit length to ws, in order', async () => {
    const c = await connect();
    c.conn.socket.write(Buffer.concat([
      text('a'),
      frame(0x1, 'frag-', { fin: false }),
      frame(0x0, 'ment', { fin: true }),
      text('b'),
      frame(0x2, Buffer.alloc(5)),
      text('c'),
      frame(0x1, 'long', { len64: true }),
      text('d'),
    ]));
    await waitFor(() => c.frames.length === 7, 'seven messages');
    expect(c.frames.map((f) => f.text)).toEqual(['a', 'frag-ment', 'b', 'binary:5', 'c', 'long', 'd']);
    // every message after the first came in the chunk ws was handed; the next chunk is read here again
    c.conn.socket.write(text('e'));
    await waitFor(() => c.frames.length === 8, 'the next chunk');
    expect(c.frames.at(-1)).toEqual({ text: 'e', via: 'reader' });
  });

  it('gives a masked frame to ws, which fails the connection (1002)', async () => {
    const c = await connect();
    c.conn.socket.write(Buffer.concat([text('ok'), frame(0x1, 'masked', { mask: true }), text('never')]));
    await waitFor(() => c.state.error !== '', 'the error');
    expect(c.state.error).toBe('WS_ERR_UNEXPECTED_MASK');
    // ws's close frame (masked, as a client's are): code 1002
    await waitFor(() => Buffer.concat(c.conn.received).length >= 2 + 4 + 2, 'the client\'s close frame');
    const close = Buffer.concat(c.conn.received);
    expect(close[0]).toBe(0x88);
    expect(((close[6]! ^ close[2]!) << 8) | (close[7]! ^ close[3]!)).toBe(1002);
    c.conn.socket.end();
    await waitFor(() => c.state.closeCode !== 0, 'the close event');
    expect(c.frames.map((f) => f.text)).toEqual(['ok']);
  });

  it('gives the close frame to ws (close handshake done) and does not take the stream back', async () => {
    const c = await connect();
    c.conn.socket.write(Buffer.concat([text('last'), frame(0x8, Buffer.from([0x03, 0xe8]))]));
    // ws answers with its close frame (masked, code 1000) and waits for the server to end
    await waitFor(() => Buffer.concat(c.conn.received).length >= 2 + 4 + 2, 'the client\'s close frame');
    expect(Buffer.concat(c.conn.received)[0]).toBe(0x88);
    c.conn.socket.end();
    await waitFor(() => c.state.closeCode !== 0, 'the close event');
    expect(c.state.closeCode).toBe(1000);
    expect(c.frames).toEqual([{ text: 'last', via: 'reader' }]);
  });
});

describe('ws frame reader: frames in the same packet as the handshake', () => {
  let srv: RawServer;
  beforeAll(async () => {
    srv = await rawServer({ firstBytes: Buffer.concat([text('first'), text('second')]) });
  });
  afterAll(() => srv.close());

  it('reads the bytes ws received with the upgrade response', async () => {
    const c = client(srv.url);
    const conn = await srv.next();
    await waitFor(() => c.frames.length === 2, 'the two frames sent with the handshake');
    conn.socket.write(text('third'));
    await waitFor(() => c.frames.length === 3, 'the frame after');
    expect(c.state.attached).toBe(true);
    expect(c.frames).toEqual([{ text: 'first', via: 'reader' }, { text: 'second', via: 'reader' }, { text: 'third', via: 'reader' }]);
    c.ws.terminate();
  });
});

describe('ws driver over the frame reader', () => {
  let srv: RawServer;
  beforeAll(async () => {
    srv = await rawServer();
  });
  afterAll(() => srv.close());

  it('delivers contract messages read in place, a gap notice and a ping between them, in order', async () => {
    const log = new EventLog();
    const spec: ClientSpec = {
      id: 0, baseUrl: srv.url.replace(/^ws/, 'http').replace(/\/ws$/, ''), topic: 't0',
      pollIntervalMs: 50, pollOffsetMs: 0, longPollTimeoutMs: 1000, reconnectMinMs: 50, reconnectMaxMs: 200,
    };
    const driverClient = DRIVERS.ws.create(spec, log);
    driverClient.start();
    const conn = await srv.next();
    const gap = JSON.stringify({ type: 'gap', topic: 't0', epoch: 'e1', from: 3, to: 4 });
    conn.socket.write(Buffer.concat([text(message(1)), text(message(2)), text(gap), frame(0x9, ''), text(message(5)), text(message(6, 'h\u00e9'))]));
    await waitFor(() => log.messages.length === 4, 'four messages');
    expect(log.seqs()).toEqual([1, 2, 5, 6]);
    expect(log.messages[3]!.msg.data).toBe('h\u00e9');
    expect(log.gaps).toBe(1);
    expect(log.errors).toEqual([]);
    await driverClient.close();
  });
});
