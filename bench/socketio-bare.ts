/**
 * The peer of `bench:socketio`'s per-core figure: a bare `socket.io-client` loop. N sockets
 * (`io(url, {transports: ['websocket'], forceNew: true, auth: {topic}})`) on one topic, each
 * event's token decoded (load/target/token.ts, as pushbench's client does) and counted; nothing
 * else is kept. Prints `ready` once every socket is connected, then, after `warmupMs`, measures its
 * process CPU (process.cpuUsage) and the deliveries over `windowMs`, and prints them as one JSON line.
 *
 * `node --import tsx bench/socketio-bare.ts URL CLIENTS TOPIC RUN WARMUP_MS WINDOW_MS`
 */
import { io, type Socket } from 'socket.io-client';
import { decodeToken } from '../load/target/token.ts';

const [url, clientsArg, topic, run, warmupArg, windowArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const sockets: Socket[] = [];
let delivered = 0;
let latencySumUs = 0;
let connected = 0;
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

await new Promise<void>((resolve) => {
  for (let i = 0; i < clients; i++) {
    const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: true, auth: { topic } });
    s.on('message', (token: unknown) => {
      const m = typeof token === 'string' ? decodeToken(token, run) : undefined;
      if (m === undefined || m === 'foreign') return;
      delivered++;
      latencySumUs += nowUs() - m.ts;
    });
    s.once('connect', () => {
      if (++connected === clients) resolve();
    });
    sockets.push(s);
  }
});
process.stdout.write('ready\n');
await new Promise((r) => setTimeout(r, Number(warmupArg)));
const cpu0 = process.cpuUsage();
const d0 = delivered;
const l0 = latencySumUs;
await new Promise((r) => setTimeout(r, Number(windowArg)));
const cpu = process.cpuUsage(cpu0);
const n = delivered - d0;
process.stdout.write(`${JSON.stringify({ delivered: n, cpuUs: cpu.user + cpu.system, meanLatencyUs: n > 0 ? (latencySumUs - l0) / n : 0 })}\n`);
for (const s of sockets) s.close();
process.exit(0);
