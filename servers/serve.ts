/**
 * `pushbench serve`: run the reference server until SIGINT/SIGTERM.
 *
 * The first stdout line is exactly `pushbench listening on http://HOST:PORT` (the real port when
 * `--port 0`), which is what the runner waits for. Options are validated all at once (exit code 2
 * listing every problem). On a signal every connection is closed (WebSocket 1001, SSE streams
 * ended, long polls answered) and the process exits within about 2 s, forced if need be.
 *
 * Also runnable directly: `node --import tsx servers/serve.ts --port 0 …`.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { validationError } from '../core/errors.ts';
import { settingsOrExit } from '../core/options.ts';
import { formatBytes, parseBytes, parseDurationMs, parseFraction, parseRatePerS } from '../core/units.ts';
import { DEFAULT_SERVER_OPTIONS, startServer, validateServerOptions, type ServerOptions } from './server.ts';
import { startCluster } from './cluster.ts';
import { exitWithParent } from '../core/parent-watch.ts';
import { newTlsFolder } from '../core/tls.ts';
import { CpuLimit, cpuLimitProblems } from '../core/cpu-limit.ts';
import os from 'node:os';

type Kind = 'int' | 'text' | 'rate' | 'bytes' | 'ms' | 'bool' | 'share' | 'cpus';

/** What `serve` is asked: the server's options and how to come by its TLS material. */
export interface ServeArgs extends ServerOptions {
  /** serve HTTPS/WSS with a certificate made at start (unless `tlsDir` names material) */
  tls: boolean;
  /** write the CA certificate (PEM) clients verify against here; '' for none */
  caOut: string;
  /** hold this process and its children to this many CPUs (a cgroup's CFS quota, core/cpu-limit.ts); 0: no limit */
  cpuLimit: number;
}

const DEFAULT_SERVE_ARGS: Readonly<ServeArgs> = Object.freeze({ ...DEFAULT_SERVER_OPTIONS, tls: false, caOut: '', cpuLimit: 0 });

/** Every option: flag, field, how its value is written, what it does. */
const OPTIONS: { flag: string; key: keyof ServeArgs; kind: Kind; help: string }[] = [
  { flag: '--port', key: 'port', kind: 'int', help: 'TCP port (0 = any free port; the first line names it)' },
  { flag: '--host', key: 'host', kind: 'text', help: 'address to listen on' },
  { flag: '--rate', key: 'ratePerS', kind: 'rate', help: 'scheduled messages per second per topic (0 = none; clients publish)' },
  { flag: '--payload', key: 'payloadBytes', kind: 'bytes', help: 'data bytes per scheduled message (64, 1KB)' },
  { flag: '--topics', key: 'topics', kind: 'int', help: 'scheduled topics, named t0 … t{N-1}' },
  { flag: '--ring', key: 'ringSize', kind: 'int', help: 'messages kept per topic for resume' },
  { flag: '--delay', key: 'delayMs', kind: 'ms', help: 'hold every delivery this long (checks the generator)' },
  { flag: '--max-connections', key: 'maxConnections', kind: 'int', help: 'open connections past this get 503' },
  { flag: '--heartbeat', key: 'heartbeatMs', kind: 'ms', help: 'SSE comment heartbeat and WebSocket ping period' },
  { flag: '--sse-retry', key: 'sseRetryMs', kind: 'ms', help: 'the SSE retry: field' },
  { flag: '--max-long-poll-timeout', key: 'maxLongPollTimeoutMs', kind: 'ms', help: 'a long poll timeout= is clamped to this' },
  { flag: '--long-poll-timeout', key: 'defaultLongPollTimeoutMs', kind: 'ms', help: 'long poll wait when timeout= is absent' },
  { flag: '--max-batch', key: 'maxBatch', kind: 'int', help: 'most messages in one poll answer' },
  { flag: '--max-body', key: 'maxBodyBytes', kind: 'bytes', help: 'POST bodies past this get 413' },
  { flag: '--max-ws-payload', key: 'maxWsPayloadBytes', kind: 'bytes', help: 'WebSocket frames past this close with 1009' },
  { flag: '--send-buffer', key: 'sendBufferBytes', kind: 'bytes', help: 'unsent bytes per subscriber before it is dropped as slow' },
  { flag: '--headers-timeout', key: 'headersTimeoutMs', kind: 'ms', help: 'request headers must arrive within this' },
  { flag: '--request-timeout', key: 'requestTimeoutMs', kind: 'ms', help: 'the whole request must arrive within this' },
  { flag: '--idle-timeout', key: 'idleTimeoutMs', kind: 'ms', help: 'idle keep-alive connections close after this' },
  { flag: '--server-procs', key: 'processes', kind: 'int', help: 'processes sharing the port and one hub (past one process\'s open files)' },
  { flag: '--admin', key: 'admin', kind: 'bool', help: 'enable POST /admin/stall?ms=N and /admin/cut?fraction=F (fault injection; never expose)' },
  { flag: '--cpu-cost', key: 'cpuCost', kind: 'share', help: 'injected CPU regression: after each scheduled publish spin this share of the CPU used since the last (30%)' },
  { flag: '--payload-kind', key: 'payloadKind', kind: 'text', help: 'what scheduled messages carry: text (cyclic alphanumerics), json (repeated JSON records), random (fresh random base64url)' },
  { flag: '--large-topic', key: 'largeTopicBytes', kind: 'bytes', help: 'data bytes per scheduled message on topic t0 alone (0: as --payload)' },
  { flag: '--tls-record-size', key: 'tlsRecordBytes', kind: 'bytes', help: 'with TLS: write records of at most this many bytes (512–16384; 0: Node\'s 16 KB)' },
  { flag: '--ws-compression', key: 'wsCompression', kind: 'bool', help: 'WebSocket: negotiate permessage-deflate when a client offers it (ws\'s defaults: messages from 1 KB on are compressed)' },
  { flag: '--tls', key: 'tls', kind: 'bool', help: 'serve HTTPS and WSS with a CA and certificate made at start (docs/tls.md)' },
  { flag: '--ca-out', key: 'caOut', kind: 'text', help: 'with --tls: write the CA certificate clients verify against to FILE (run --ca FILE)' },
  { flag: '--server-cpu-limit', key: 'cpuLimit', kind: 'cpus', help: 'hold the server to this much CPU (0.25: a quarter of one CPU), a CFS quota in a cgroup of its own, as a Kubernetes pod\'s limit (needs root or a delegated cgroup; 0: none)' },
  { flag: '--tls-dir', key: 'tlsDir', kind: 'text', help: 'serve HTTPS and WSS with the key, certificate and ticket keys in DIR (as pushbench writes them)' },
];

const PARSERS: Record<Kind, (text: string) => number | string | undefined> = {
  int: (t) => (/^\d+$/.test(t.trim()) ? Number(t) : undefined),
  text: (t) => t,
  rate: parseRatePerS,
  bytes: parseBytes,
  ms: (t) => parseDurationMs(t, 'ms'),
  bool: (t) => (t === 'true' ? 'true' : t === 'false' ? 'false' : undefined),
  share: parseFraction,
  cpus: (t) => (/^\d+(\.\d+)?$/.test(t.trim()) ? Number(t) : undefined),
};

const UNIT_HINT: Record<Kind, string> = { int: 'N', text: 'TEXT', rate: 'N[/s]', bytes: 'BYTES', ms: 'MS', bool: '', share: 'PERCENT', cpus: 'CPUS' };

function formatDefault(kind: Kind, v: number | string | boolean): string {
  if (kind === 'bytes') return formatBytes(v as number);
  if (kind === 'ms') return `${v}ms`;
  if (kind === 'rate') return `${v}/s`;
  if (kind === 'share') return `${(v as number) * 100}%`;
  return String(v);
}

export function serveHelp(): string {
  const rows = OPTIONS.map((o) => {
    const left = `  ${o.flag} ${UNIT_HINT[o.kind]}`;
    const def = DEFAULT_SERVE_ARGS[o.key];
    return `${left.padEnd(36)}${o.help}${def === '' ? '' : ` (default ${formatDefault(o.kind, def)})`}`;
  });
  return [
    'usage: pushbench serve [options]',
    '',
    'Runs the reference server: short polling (/poll), long polling (/long-poll), SSE (/sse) and',
    'WebSocket (/ws) on one port, plus POST /publish, GET /stats, /healthz and /time; HTTPS/WSS with --tls.',
    'Durations take ms by default (250, 2s); sizes take bytes (64, 1KB).',
    '',
    ...rows,
    `${'  --help'.padEnd(36)}this text`,
    '',
  ].join('\n');
}

/** Parse argv into options; throws PB_BAD_OPTION listing every problem. */
export function parseServeArgs(argv: string[]): ServeArgs {
  const opts: ServeArgs = { ...DEFAULT_SERVE_ARGS };
  const problems: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = OPTIONS.find((o) => o.flag === flag);
    if (!spec) {
      problems.push(`unknown option ${arg} (see --help)`);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : spec.kind === 'bool' ? 'true' : argv[++i];
    if (value === undefined) {
      problems.push(`${flag} needs a value (${UNIT_HINT[spec.kind]})`);
      continue;
    }
    if (seen.has(flag)) problems.push(`${flag} is given twice`);
    seen.add(flag);
    const parsed = PARSERS[spec.kind](value);
    if (parsed === undefined) problems.push(`${flag} ${JSON.stringify(value)} is not a valid ${UNIT_HINT[spec.kind]}`);
    else (opts as unknown as Record<string, number | string | boolean>)[spec.key] = spec.kind === 'bool' ? parsed === 'true' : parsed;
  }
  if (opts.caOut && !opts.tls) problems.push('--ca-out writes the CA of a certificate made at start: it needs --tls');
  if (opts.cpuLimit > 0) problems.push(...cpuLimitProblems('--server-cpu-limit', opts.cpuLimit, os.availableParallelism()));
  if (opts.tls && opts.tlsDir) problems.push('--tls makes the TLS material at start, --tls-dir reads it from a folder: give one of them');
  if (opts.tlsRecordBytes && !opts.tls && !opts.tlsDir) problems.push('--tls-record-size sizes TLS records: it needs --tls or --tls-dir');
  for (const p of validateServerOptions(opts)) {
    const spec = OPTIONS.find((o) => p.startsWith(`${o.key} `));
    problems.push(spec ? p.replace(spec.key, spec.flag) : p);
  }
  if (problems.length > 0) throw validationError(problems, 'pushbench serve: invalid options');
  return opts;
}

/** How long shutdown may take before the process exits anyway, ms. */
const FORCE_EXIT_MS = 2000;

/** Run `pushbench serve` with `argv`; resolves with the exit code once the server has stopped. */
export async function serveCommand(argv: string[]): Promise<number> {
  const parsed = settingsOrExit(() => (argv.includes('--help') || argv.includes('-h') ? 'help' : parseServeArgs(argv)), serveHelp);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { tls, caOut, cpuLimit, ...opts } = parsed.settings;
  let server;
  let madeDir: string | null = null;
  // before any server process is forked: they inherit the cgroup; removed at exit however it exits
  const limit = cpuLimit > 0 ? CpuLimit.create(cpuLimit) : null;
  limit?.add(process.pid);
  if (limit) process.stderr.write(`pushbench serve: limited to ${cpuLimit} CPU (cgroup v${limit.version} ${limit.path})\n`);
  try {
    if (tls) opts.tlsDir = madeDir = await tlsFolder(caOut);
    server = opts.processes > 1 ? await startCluster(opts) : await startServer(opts);
  } catch (err) {
    process.stderr.write(`pushbench serve: ${err instanceof Error ? err.message : String(err)}\n`);
    if (madeDir) rmSync(madeDir, { recursive: true, force: true });
    return 1;
  }
  // listening for the signals before the ready line: a signal sent as soon as it is read closes
  // the server (and removes a CPU limit's cgroup) instead of killing the process outright
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stdout.write(`pushbench listening on ${server.url}\n`);
  const signal = await signalled;
  process.stderr.write(`pushbench serve: ${signal}, closing\n`);
  // A second signal, or a shutdown that hangs, ends the process at once.
  const force = () => process.exit(0);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  setTimeout(force, FORCE_EXIT_MS).unref();
  await server.close();
  if (madeDir) rmSync(madeDir, { recursive: true, force: true });
  return 0;
}

/**
 * `serve --tls`: TLS material made now, in a private temporary folder every server process reads
 * (its CA also to `caOut` when given); the caller removes the folder.
 */
async function tlsFolder(caOut: string): Promise<string> {
  const { dir, material } = await newTlsFolder();
  if (caOut) writeFileSync(caOut, material.ca);
  return dir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  exitWithParent();
  process.exitCode = await serveCommand(process.argv.slice(2));
}
