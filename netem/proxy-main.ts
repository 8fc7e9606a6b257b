/**
 * The latency proxy as its own process, so the runner can measure its CPU from /proc/PID/stat and
 * mark a run invalid when the proxy saturated.
 *
 *   node --import tsx netem/proxy-main.ts --target 127.0.0.1:PORT --delay 25 --jitter 5 --bandwidth 1MB
 *
 * Options: `--target HOST:PORT` (required), `--delay` and `--jitter` (ms when bare, or `250us`,
 * `2ms`, …), `--bandwidth` (bytes per second per direction per connection: `187500`, `1MB`),
 * `--host` (127.0.0.1), `--port` (0), `--max-queued` (bytes per direction per connection),
 * `--link connection|browser` (what the bandwidth paces: each connection on a link of its own, or
 * the connections from one source address on one shared link per direction), `--loss P` (`0.01`
 * or `1%`: the per-segment loss probability of netem/loss.ts's model), `--loss-burst B` (its
 * losses in runs of B segments on average on one link).
 *
 * Protocol with the parent:
 * - first stdout line, exactly: `pushbench proxy listening on http://HOST:PORT`;
 * - stats over IPC: when spawned with an IPC channel (`fork`, or stdio `'ipc'`), the message
 *   `{ "type": "stats" }` is answered with `{ "type": "stats", "stats": LatencyProxyStats }`;
 * - measured window over IPC: `{ "type": "window", "fromUs": …, "toUs": … }` (µs on the shared
 *   nowUs clock) limits the lateness histogram (`stats.lateness`) to releases due in that window;
 * - fault injection over IPC: `{ "type": "blackhole", "ms": N }` stops every byte both ways for
 *   N ms (connections stay open) and is answered with `{ "type": "blackhole", "untilUs": … }`;
 * - on SIGTERM or SIGINT it closes every connection, prints one last line
 *   `{"type":"stats","stats":{…}}` (the final totals) and exits 0;
 * - bad options: the problems on stderr, exit 2; the port is taken: the reason on stderr, exit 1.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseBytes, parseDurationMs, parseFraction } from '../core/units.ts';
import { startLatencyProxy, type LatencyProxyOptions } from './proxy.ts';
import { exitWithParent } from '../core/parent-watch.ts';

/** Parse the command line into proxy options, or every problem found. */
export function parseProxyArgs(argv: string[]): { options: LatencyProxyOptions } | { problems: string[] } {
  const problems: string[] = [];
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        target: { type: 'string' }, delay: { type: 'string' }, jitter: { type: 'string' },
        bandwidth: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' },
        'max-queued': { type: 'string' }, link: { type: 'string' }, loss: { type: 'string' }, 'loss-burst': { type: 'string' },
      },
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    return { problems: [(err as Error).message] };
  }
  const target = /^(.+):(\d{1,5})$/.exec(values.target ?? '');
  if (!target) problems.push(`--target must be HOST:PORT (got ${JSON.stringify(values.target ?? '')})`);
  const ms = (name: string, fallback: number) => {
    const text = values[name];
    if (text === undefined) return fallback;
    const v = parseDurationMs(text, 'ms');
    if (v === undefined) problems.push(`--${name} must be a duration such as 25 or 25ms (got ${JSON.stringify(text)})`);
    return v ?? fallback;
  };
  const bytes = (name: string) => {
    const text = values[name];
    if (text === undefined) return undefined;
    const v = parseBytes(text.replace(/\/s$/, ''));
    if (v === undefined || v <= 0) problems.push(`--${name} must be a positive size such as 187500 or 1MB (got ${JSON.stringify(text)})`);
    return v;
  };
  const delayMs = ms('delay', 0);
  const jitterMs = ms('jitter', 0);
  const bandwidthBytesPerS = bytes('bandwidth');
  const maxQueuedBytes = bytes('max-queued');
  const link = values.link ?? 'connection';
  if (link !== 'connection' && link !== 'browser') problems.push(`--link must be connection or browser (got ${JSON.stringify(link)})`);
  const lossRate = values.loss === undefined ? undefined : parseFraction(values.loss);
  if (values.loss !== undefined && !(lossRate !== undefined && lossRate > 0 && lossRate < 1)) problems.push(`--loss must be a probability above 0 and below 1, such as 0.01 or 1% (got ${JSON.stringify(values.loss)})`);
  const lossBurst = values['loss-burst'] === undefined ? undefined : Number(values['loss-burst']);
  if (lossBurst !== undefined && !(lossBurst >= 1)) problems.push(`--loss-burst must be a number ≥ 1, the mean segments lost in a row (got ${JSON.stringify(values['loss-burst'])})`);
  if (lossBurst !== undefined && values.loss === undefined) problems.push('--loss-burst needs --loss');
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`--port must be 0…65535 (got ${JSON.stringify(values.port)})`);
  if (problems.length > 0 || !target) return { problems };
  return {
    options: {
      targetHost: target[1], targetPort: Number(target[2]), host: values.host ?? '127.0.0.1', port,
      delayMs, jitterMs, bandwidthBytesPerS, maxQueuedBytes,
      ...(link === 'browser' ? { link: 'browser' as const } : {}),
      ...(lossRate !== undefined ? { lossRate } : {}),
      ...(lossBurst !== undefined ? { lossBurst } : {}),
    },
  };
}

async function main(): Promise<void> {
  const parsed = parseProxyArgs(process.argv.slice(2));
  if ('problems' in parsed) {
    process.stderr.write(`pushbench proxy: invalid options:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(2);
  }
  let proxy;
  try {
    proxy = await startLatencyProxy(parsed.options);
  } catch (err) {
    process.stderr.write(`pushbench proxy: cannot listen (${(err as Error).message})\n`);
    process.exit(1);
  }
  process.stdout.write(`pushbench proxy listening on ${proxy.url}\n`);
  process.on('message', (msg: unknown) => {
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { type?: unknown; ms?: unknown; fromUs?: unknown; toUs?: unknown };
    if (m.type === 'stats') process.send?.({ type: 'stats', stats: proxy.stats() });
    else if (m.type === 'window' && typeof m.fromUs === 'number' && typeof m.toUs === 'number') proxy.measureWindow(m.fromUs, m.toUs);
    else if (m.type === 'blackhole' && typeof m.ms === 'number' && m.ms > 0) {
      process.send?.({ type: 'blackhole', untilUs: proxy.blackhole(m.ms) });
    }
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await proxy.close();
    process.stdout.write(`${JSON.stringify({ type: 'stats', stats: proxy.stats() })}\n`, () => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  exitWithParent();
  await main();
}
