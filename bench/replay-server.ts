/**
 * The replay server of `npm run bench:generator`'s short-poll part: it answers every HTTP/1.1
 * request on every connection with one fixed response — the bytes the reference server sent for
 * the polled URL, status line, headers and body as they were — and does nothing else. A request is
 * a head ending in an empty line (GET, no body); requests split across reads and several in one
 * read are both counted right, and a read's answers go out in one write.
 *
 * Why: against the reference server a closed-loop short poll fills the server's core first (one
 * `/poll` costs the server about what it costs the client), so pushbench and autocannon both get
 * what the server gives and their ratio is a tie the bench cannot split. Replaying its answer
 * costs the server a fraction of that: then the generators' own cost per request sets the pace.
 *
 * Child entry: `node --import tsx bench/replay-server.ts ANSWER_FILE` prints
 * `replay listening on http://127.0.0.1:PORT` and serves until it is signalled.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

const CR = 0x0d;
const LF = 0x0a;

/**
 * Counts the requests a connection's bytes finish: each `\r\n\r\n`, found across reads (`state`
 * is how much of it the last read ended in: 0–3).
 */
export class RequestEnds {
  private state = 0;

  count(chunk: Uint8Array): number {
    let n = 0;
    let st = this.state;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === CR) st = st === 2 ? 3 : 1;
      else if (b === LF && (st === 1 || st === 3)) {
        if (st === 3) {
          n++;
          st = 0;
        } else st = 2;
      } else st = 0;
    }
    this.state = st;
    return n;
  }
}

/** Listen on 127.0.0.1:`port` (0 = any), answering every request with `answer`. */
export function replayServer(answer: Buffer, port = 0): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const ends = new RequestEnds();
    socket.on('data', (chunk: Buffer) => {
      const n = ends.count(chunk);
      if (n === 1) socket.write(answer);
      else if (n > 1) socket.write(Buffer.concat(Array.from({ length: n }, () => answer)));
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * The raw response (head and body) the server at `base` sends for GET `path`, read off a plain
 * socket so nothing is re-serialized; the body is read to its content-length.
 */
export function captureAnswer(base: string, path: string): Promise<Buffer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`capturing GET ${path} from ${base}: ${why}`));
    };
    socket.setTimeout(5000, () => fail('no complete answer within 5 s'));
    socket.on('error', (err) => fail(err.message));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = all.subarray(0, headEnd).toString('latin1');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
      if (length === undefined) return fail('the answer has no content-length');
      if (!/^HTTP\/1\.1 200 /.test(head)) return fail(`the answer is not 200 OK: ${head.split('\r\n')[0]}`);
      const total = headEnd + 4 + Number(length);
      if (all.length < total) return;
      socket.destroy();
      resolve(all.subarray(0, total));
    });
    socket.write(`GET ${path} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n\r\n`);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [answerFile] = process.argv.slice(2);
  if (!answerFile) {
    process.stderr.write('usage: replay-server.ts ANSWER_FILE\n');
    process.exit(2);
  }
  const server = await replayServer(readFileSync(answerFile));
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`replay listening on http://127.0.0.1:${port}\n`);
  // nothing to flush: a signal ends it at once, connections and all
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}
