/**
 * The options of `pushbench run` (and the shared part of rank and capacity): one frozen table of
 * specs with their defaults, and one validator that turns parsed values into RunSettings or into
 * the list of every problem found.
 */
import { readFileSync } from 'node:fs';
import { folderProblem } from '../core/record-io.ts';
import { join } from 'node:path';
import type { TransportName } from '../core/wire.ts';
import { TARGET_ONLY_TRANSPORTS, TRANSPORTS, socketsPerClient, traitsOf } from '../load/drivers/index.ts';
import type { WorkloadName } from '../core/record.ts';
import { parseOptions, type OptionSpec, type OptionValues } from '../core/options.ts';
import { parseBytes, parseFraction } from '../core/units.ts';
import { countCpus, defaultCpuSplit, parseSourceIps, type RunSettings } from '../load/runner.ts';
import { RECONNECT_DELAY_MS, TOPIC_PREFIX_RE } from '../load/run/settings.ts';
import { BACKOFF_JITTER } from '../load/drivers/backoff.ts';
import { cpuLimitProblems } from '../core/cpu-limit.ts';
import { openFilesLimit, cpuCount } from '../load/resources.ts';
import { WORKLOADS } from '../load/workload.ts';
import { resolveNetwork } from '../netem/network-profile.ts';
import { ASSERT_OPTION_SPEC } from '../gate/assert.ts';
import { BUILTIN_PREFIX, loadProfile, type Profile } from '../load/target/profile.ts';
import { METRICS_OPTION_SPECS } from './metrics-option.ts';
import { PAYLOAD_KINDS, type PayloadKind } from '../servers/payload.ts';
import { SOCKETIO_OPTION_SPECS, checkSocketio } from './socketio-options.ts';

/** Options every load command shares (workload, scale, pinning, target). */
export const LOAD_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'clients', kind: 'int', arg: 'N', help: 'simulated clients', default: 100, min: 1, max: 1_000_000 },
  { name: 'duration', kind: 'durationMs', arg: 'TIME', help: 'run length from the first client\'s arrival, warm-up included', default: 30_000, min: 1000 },
  { name: 'warmup', kind: 'durationMs', arg: 'TIME', help: 'first part of the run not recorded (default: ramp time + 2s, at most half the run)' },
  { name: 'workload', kind: 'string', arg: 'NAME', help: 'broadcast: topics fed by the server; fanout: a topic per client; chat: clients publish upstream', default: 'broadcast', choices: WORKLOADS },
  { name: 'rate', kind: 'number', arg: 'MSG/S', help: 'messages per second on each topic', default: 1, min: 0, max: 100_000 },
  { name: 'payload', kind: 'bytes', arg: 'BYTES', help: 'payload size of each message', default: 64, min: 0, max: 1024 * 1024 },
  { name: 'topics', kind: 'int', arg: 'N', help: 'topics (broadcast) or rooms (chat); fanout uses one per client', default: 1, min: 1, max: 1_000_000 },
  { name: 'poll-interval', kind: 'durationMs', bareUnit: 'ms', arg: 'TIME', help: 'short-poll period Δ on a fixed schedule; 0 polls back to back', default: 250, min: 0 },
  { name: 'long-poll-timeout', kind: 'durationMs', arg: 'TIME', help: 'timeout each long poll asks the server for', default: 30_000, min: 100 },
  { name: 'arrival-rate', kind: 'ratePerS', arg: 'N/s', help: 'clients started per second (open model)', default: 1000 },
  { name: 'network', kind: 'string', arg: 'PROFILE', help: 'loopback, lan, wan, mobile, or delay=25ms,jitter=2ms,bw=1MB (a user-space latency proxy; add link=browser for one link per browser, loss=1% for packet loss, docs/networks.md)', default: 'loopback' },
  { name: 'target', kind: 'string', arg: 'URL', help: 'measure a server already running at URL instead of starting the reference server' },
  { name: 'profile', kind: 'string', arg: 'FILE', help: 'how to publish to and subscribe on the --target (a JSON profile, see docs/target-profiles.md), or builtin:reference' },
  ...SOCKETIO_OPTION_SPECS,
  { name: 'payload-kind', kind: 'string', arg: 'KIND', help: 'what the reference server\'s messages carry: text (cyclic alphanumerics), json (repeated JSON records), random (fresh random bytes, base64url)', default: 'text', choices: PAYLOAD_KINDS },
  { name: 'ws-compression', kind: 'bool', help: 'WebSocket clients offer permessage-deflate and the reference server accepts it (docs/ws-compression.md)' },
  { name: 'tls', kind: 'bool', help: 'HTTPS/WSS: the reference server with a CA and certificate made at start, the clients verifying it (docs/tls.md)' },
  { name: 'tls-record-size', kind: 'bytes', arg: 'BYTES', help: 'with --tls: the reference server writes TLS records of at most BYTES (512 B–16 KB; default Node\'s 16 KB), which decides when a receiver can read what a write holds (docs/tls.md)', min: 512, max: 16384 },
  { name: 'streams-per-connection', kind: 'int', arg: 'N', help: 'subscriptions per simulated browser: sse-h2 carries N clients\' streams on one HTTP/2 connection; the other transports open a connection per client, as a browser without HTTP/2 (docs/http2.md)', default: 1, min: 1, max: 1000 },
  { name: 'ca', kind: 'string', arg: 'FILE', help: 'CA certificates (PEM) to verify an https:// --target against (default: the system\'s roots)' },
  { name: 'server-pid', kind: 'int', arg: 'PID', help: 'PID of the --target server, to sample its CPU and memory (otherwise reported as unknown)', min: 1 },
  { name: 'topic-prefix', kind: 'string', arg: 'P', help: 'with --profile: topics are named P + t0, t1, … (default pb-<run id>-, new per run, so a server\'s history of earlier runs is never replayed into this one; \'\' keeps fixed names t0…); the reference server\'s own publisher always publishes t0…' },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs for the reference server (taskset list; default: $PUSHBENCH_SERVER_CPUS, else the first half of the machine)' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs for the generator and the proxy (default: $PUSHBENCH_LOAD_CPUS, else the second half)' },
  { name: 'workers', kind: 'int', arg: 'N', help: 'generator worker threads (default: one per load CPU)', min: 1, max: 256 },
  { name: 'source-ips', kind: 'string', arg: 'LIST|CIDR', help: 'addresses of this machine the clients send from, spread round-robin (e.g. 127.0.0.0/24 or 10.0.0.5,10.0.0.6): past one address\'s ~28,000 ephemeral ports to one target (default: on loopback, 127.0.0.2… by client count)' },
  { name: 'delay', kind: 'durationMs', bareUnit: 'ms', arg: 'MS', help: 'reference server holds every delivery this long (accuracy checks)', default: 0, min: 0 },
  { name: 'server-cpu-cost', kind: 'fraction', arg: 'PERCENT', help: 'reference server spins this share more CPU after each publish: an injected CPU regression (calibrating the gate)', default: 0, min: 0, max: 10 },
  { name: 'reconnect-delay', kind: 'durationMs', bareUnit: 'ms', arg: 'TIME', help: 'a client\'s first wait before reconnecting, doubling per failed attempt up to 5 s (a client library\'s backoff: Socket.IO\'s is 1s)', default: 100, min: 1, max: 5000 },
  { name: 'reconnect-jitter', kind: 'fraction', arg: 'PERCENT', help: 'share of each reconnect wait spread either way, uniformly (Socket.IO\'s randomizationFactor is 50%)', default: 0.2, min: 0, max: 0.99 },
  { name: 'server-cpu-limit', kind: 'number', arg: 'CPUS', help: 'reference server held to this much CPU time (0.25: a quarter of one CPU), a CFS quota in a cgroup of its own, as a Kubernetes pod\'s CPU limit; its restarts too (needs root or a delegated cgroup)', min: 0 },
  { name: 'ring', kind: 'int', arg: 'N', help: 'reference server replay ring per topic', default: 1024, min: 1 },
  { name: 'out', kind: 'string', arg: 'DIR', help: 'folder for result files and the report', default: 'results' },
  { name: 'no-report', kind: 'bool', help: 'write the result file only, no report' },
  ...METRICS_OPTION_SPECS,
]);

export const RUN_OPTION_SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'transport', kind: 'string', arg: 'NAME', help: 'transport to measure (required; socketio-* with --socketio)', choices: [...TRANSPORTS, ...TARGET_ONLY_TRANSPORTS] },
  ...LOAD_OPTION_SPECS,
  { name: 'name', kind: 'string', arg: 'NAME', help: 'run name (default: transport-workload-clients-time)' },
  { name: 'large-topic', kind: 'bytes', arg: 'BYTES', help: 'topic t0\'s messages carry BYTES of data (the others --payload), its subscribers recorded apart: with --topics N = --streams-per-connection N, one large tab per browser (docs/http2.md)', min: 1, max: 1024 * 1024 },
  { name: 'slow-clients', kind: 'string', arg: 'SHARE:RATE', help: 'slow consumers: a share of the clients reads at most RATE, recorded apart, e.g. 5%:10KB/s' },
  { name: 'fault', kind: 'string', arg: 'KIND@TIME[:V]', repeat: true, help: 'inject a fault (repeatable): restart-server@10s, cut-connections@15s:25%, stall-server@20s:2s, blackhole@25s:5s' },
  ASSERT_OPTION_SPEC,
]);

const CPU_LIST_RE = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
/** Open files each process keeps for itself beyond one per connection. */
const FD_MARGIN = 200;

function checkCpuList(label: string, list: string | undefined, problems: string[]): void {
  if (list === undefined) return;
  if (!CPU_LIST_RE.test(list)) {
    problems.push(`${label} must be a CPU list like 0, 1-3 or 0,2 (got "${list}")`);
    return;
  }
  const max = Math.max(...list.split(/[,-]/).map(Number));
  if (max >= cpuCount()) problems.push(`${label} names CPU ${max}, but this machine has CPUs 0-${cpuCount() - 1}`);
}

/** Environment defaults of --server-cpus and --load-cpus: a machine's own split, set once (a CI runner, a test lane). */
export const CPU_ENV = { serverCpus: 'PUSHBENCH_SERVER_CPUS', loadCpus: 'PUSHBENCH_LOAD_CPUS' } as const;

/**
 * The CPUs a run pins its server and its generator to: the options, else their environment
 * defaults ({@link CPU_ENV}), else the machine's default split; each checked as a CPU list and
 * named, in a problem, by where it came from.
 */
export function cpuPins(v: OptionValues, problems: string[]): { serverCpus: string | null; loadCpus: string | null } {
  const split = defaultCpuSplit();
  const pick = (key: keyof typeof CPU_ENV, option: string) => {
    const given = v[key] as string | undefined;
    const value = given ?? (process.env[CPU_ENV[key]] || undefined);
    checkCpuList(given !== undefined ? `--${option}` : CPU_ENV[key], value, problems);
    return value ?? split[key];
  };
  return { serverCpus: pick('serverCpus', 'server-cpus'), loadCpus: pick('loadCpus', 'load-cpus') };
}

/**
 * {@link loadSettings} for one of several transports (or networks) of one command: a problem goes
 * to `problems` only when `seen` does not hold it yet, so a problem they share is listed once.
 */
export function loadSettingsOnce(v: OptionValues, transport: TransportName, problems: string[], seen: Set<string>): RunSettings {
  const local: string[] = [];
  const settings = loadSettings(v, transport, local);
  for (const p of local) if (!seen.has(p)) { seen.add(p); problems.push(p); }
  return settings;
}

/** A file-system-safe form of a run name (the record keeps the name as typed). */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 120) || 'run';
}

/**
 * Check the shared load options and build the settings for one transport; `problems` collects
 * every problem (none means the settings are usable). Checks machine limits before any work.
 */
export function loadSettings(v: OptionValues, transport: TransportName, problems: string[]): RunSettings {
  const clients = v.clients as number;
  const durationMs = v.duration as number;
  const arrivalRatePerS = v.arrivalRate as number;
  const warmupMs = checkTiming(v, clients, durationMs, arrivalRatePerS, problems);
  const workload = v.workload as WorkloadName;
  const ratePerS = v.rate as number;
  if (workload === 'chat' && ratePerS <= 0) problems.push('--workload chat needs --rate above 0 (messages per second in each room)');
  const topics = v.topics as number;
  if (workload !== 'fanout' && topics > clients) problems.push(`--topics ${topics} is more than --clients ${clients}: some topics would have no subscriber`);
  const pollIntervalMs = v.pollInterval as number;
  const { serverCpus, loadCpus } = cpuPins(v, problems);
  const target = checkTarget(v.target as string | undefined, problems);
  const tls = checkTls(v, target, problems);
  if (traitsOf(transport).tlsOnly && !tls.on) problems.push(`--transport ${transport} runs over TLS only (browsers speak HTTP/2 only over TLS, negotiated by ALPN): add --tls, or give an https:// --target`);
  const streamsPerConnection = v.streamsPerConnection as number;
  const payloadKind = v.payloadKind as PayloadKind;
  if (payloadKind !== 'text' && (target !== null || v.profile !== undefined || workload === 'chat')) problems.push(`--payload-kind ${payloadKind} shapes the reference server's own publisher: not with --target, --profile or --workload chat`);
  const profile = checkSocketio(v, transport, workload, target, problems) ?? checkProfile(v.profile as string | undefined, transport, workload, target, problems);
  if (v.serverPid !== undefined && target === null) problems.push('--server-pid only makes sense with --target (the reference server is sampled anyway)');
  const topicPrefix = checkTopicPrefix(v.topicPrefix as string | undefined, profile, problems);
  const net = resolveNetwork(v.network as string);
  if (net.problems.length) problems.push(...net.problems.map((p) => `--network: ${p}`));
  checkBrowserLink(net.proxy?.link, target, v.sourceIps as string | undefined, problems);
  // chat over HTTP publishes on a second connection; so does every client of a profile (its publish request)
  checkOpenFiles(clients, socketsPerClient(transport, workload, profile !== null), target, problems);
  checkOutFolder(v.out as string, problems);
  const workers = (v.workers as number | undefined) ?? Math.max(1, countCpus(loadCpus));
  const sourceIps = checkSourceIps(v.sourceIps as string | undefined, problems);
  // here, not in the run command: every caller building run settings from run's options (the
  // benches, the tests) must get it, or an option it was given would be dropped without a word
  const largeTopicBytes = checkLargeTopic(v, problems);
  const serverCpuLimit = checkServerCpuLimit(v.serverCpuLimit as number | undefined, target, serverCpus, problems);
  const serverArgs = serverCpuCost(v.serverCpuCost as number, workload, ratePerS, target, profile, problems);
  return {
    name: '',
    transport,
    workload,
    clients,
    durationMs,
    warmupMs,
    ratePerS,
    payloadBytes: v.payload as number,
    topics: workload === 'fanout' ? clients : topics,
    pollIntervalMs: traitsOf(transport).pollInterval ? pollIntervalMs : 0,
    longPollTimeoutMs: v.longPollTimeout as number,
    arrivalRatePerS,
    network: net.name,
    target,
    serverDelayMs: v.delay as number,
    workers,
    serverCpus: target ? null : serverCpus,
    loadCpus,
    serverPid: (v.serverPid as number | undefined) ?? null,
    ringSize: v.ring as number,
    proxy: net.proxy,
    targetProfile: profile,
    ...(topicPrefix !== undefined ? { topicPrefix } : {}),
    ...(serverArgs.length > 0 ? { serverArgs } : {}),
    ...(tls.on ? { tls: true } : {}),
    ...(payloadKind !== 'text' ? { payloadKind } : {}),
    ...(largeTopicBytes !== undefined ? { largeTopicBytes } : {}),
    // a transport that cannot negotiate deflate runs as it is (as --poll-interval for a push transport)
    ...(v.wsCompression && traitsOf(transport).deflate ? { wsCompression: true } : {}),
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.recordBytes !== undefined ? { tlsRecordBytes: tls.recordBytes } : {}),
    ...(streamsPerConnection > 1 ? { streamsPerConnection } : {}),
    ...(sourceIps ? { sourceIps } : {}),
    ...(serverCpuLimit !== undefined ? { serverCpuLimit } : {}),
    ...((v.reconnectDelay as number) !== RECONNECT_DELAY_MS ? { reconnectDelayMs: v.reconnectDelay as number } : {}),
    ...((v.reconnectJitter as number) !== BACKOFF_JITTER ? { reconnectJitter: v.reconnectJitter as number } : {}),
  };
}

/** `--server-cpu-limit`: the reference server's only, within its CPUs, on a machine with a cgroup to hold it. */
function checkServerCpuLimit(limit: number | undefined, target: string | null, serverCpus: string | null, problems: string[]): number | undefined {
  if (limit === undefined) return undefined;
  if (target !== null) {
    problems.push('--server-cpu-limit limits the reference server pushbench starts, not a --target (limit your server where it runs)');
    return undefined;
  }
  const found = cpuLimitProblems('--server-cpu-limit', limit, countCpus(serverCpus));
  problems.push(...found);
  return found.length ? undefined : limit;
}

/**
 * `--network …,link=browser`: the generator sends each simulated browser's connections from a
 * loopback address of its own (load/browser-address.ts), by which the proxy tells browsers apart.
 * So not beside `--source-ips` (which would choose the addresses), and only towards a target on
 * loopback: a remote one puts a real network, shared by every browser, behind the proxy's links.
 */
function checkBrowserLink(link: string | undefined, target: string | null, sourceIps: string | undefined, problems: string[]): void {
  if (link !== 'browser') return;
  if (sourceIps !== undefined) problems.push('--network link=browser sends each browser from a loopback address of its own (127.1.0.0 and up), by which the proxy tells browsers apart: not with --source-ips');
  const host = target === null ? null : new URL(target).hostname;
  if (host !== null && host !== 'localhost' && !/^127\.\d+\.\d+\.\d+$/.test(host)) problems.push(`--network link=browser models each browser's link on this machine's loopback: --target ${target} is not on loopback (127.0.0.0/8 or localhost)`);
}

/** `--source-ips`, parsed and every address checked to be this machine's (load/run/machine.ts). */
function checkSourceIps(text: string | undefined, problems: string[]): string[] | null {
  if (text === undefined) return null;
  const ips = parseSourceIps(text);
  if (typeof ips === 'string') {
    problems.push(ips);
    return null;
  }
  return ips;
}

/**
 * `--tls`, `--tls-record-size` and `--ca`: TLS is on with `--tls` or an https:// target (never
 * `--tls` towards an http:// one); the record size is the reference server's (it needs `--tls`
 * and no target); `--ca` is read now (its PEM), and only an https:// target takes it.
 */
function checkTls(v: OptionValues, target: string | null, problems: string[]): { on: boolean; ca?: string; recordBytes?: number } {
  const https = target?.startsWith('https:') ?? false;
  if (v.tls && target !== null && !https) problems.push(`--tls speaks TLS to the server, but --target ${target} is http://: give its https:// address, or leave --tls out`);
  const recordBytes = v.tlsRecordSize as number | undefined;
  if (recordBytes !== undefined && (!v.tls || target !== null)) problems.push('--tls-record-size sets the reference server\'s TLS records: it needs --tls and no --target');
  const on = Boolean(v.tls) || https;
  const file = v.ca as string | undefined;
  if (file === undefined) return { on, ...(recordBytes !== undefined ? { recordBytes } : {}) };
  if (!https) problems.push('--ca verifies an https:// --target; the reference server\'s CA (--tls) is made at start and trusted by itself');
  try {
    const ca = readFileSync(file, 'utf8');
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`--ca ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return { on: Boolean(v.tls) || https, ca };
  } catch (err) {
    problems.push(`--ca ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return { on: Boolean(v.tls) || https };
  }
}

/** `--topic-prefix`: token-safe characters, and only where pushbench names the topics (a profile run). */
function checkTopicPrefix(raw: string | undefined, profile: Profile | null, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  if (!TOPIC_PREFIX_RE.test(raw)) problems.push(`--topic-prefix must be at most 40 of A-Z a-z 0-9 . _ ~ - (got "${raw}")`);
  if (profile === null) problems.push('--topic-prefix names the topics pushbench publishes to with --profile; the reference server\'s own publisher names its topics t0, t1, …');
  return raw;
}

/** `--server-cpu-cost`: the reference server's `--cpu-cost`, spent by its scheduled publisher (servers/cpu-cost.ts). */
function serverCpuCost(share: number, workload: WorkloadName, ratePerS: number, target: string | null, profile: Profile | null, problems: string[]): string[] {
  if (!(share > 0)) return [];
  if (target !== null) problems.push('--server-cpu-cost applies to the reference server, not to a --target');
  else if (workload === 'chat' || profile !== null || !(ratePerS > 0)) problems.push('--server-cpu-cost is spent at each publish of the server\'s own publisher: it needs --rate above 0 and a workload the server publishes (broadcast, fanout), without --profile');
  return ['--cpu-cost', String(share)];
}

/** The arrival rate, the warm-up (given, or the ramp + 2 s, at most half the run) and the ramp against the duration; returns the warm-up. */
export function checkTiming(v: OptionValues, clients: number, durationMs: number, arrivalRatePerS: number, problems: string[]): number {
  if (!(arrivalRatePerS > 0)) problems.push('--arrival-rate must be more than 0/s');
  const rampMs = arrivalRatePerS > 0 ? (clients / arrivalRatePerS) * 1000 : 0;
  const warmupMs = (v.warmup as number | undefined) ?? Math.min(Math.ceil((rampMs + 2000) / 1000) * 1000, Math.floor(durationMs / 2));
  if (warmupMs >= durationMs) problems.push(`--warmup (${warmupMs} ms) must be shorter than --duration (${durationMs} ms): nothing would be measured`);
  if (v.warmup === undefined && rampMs + 1000 > durationMs / 2) {
    problems.push(`ramping ${clients} clients at ${arrivalRatePerS}/s takes ${(rampMs / 1000).toFixed(1)} s, more than half of --duration; raise --duration or --arrival-rate`);
  }
  return warmupMs;
}

/** `--target`: the origin of an http(s) URL; null when absent or not one. */
export function checkTarget(raw: string | undefined, problems: string[]): string | null {
  if (raw === undefined) return null;
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin;
    problems.push(`--target must be an http:// or https:// URL (got "${raw}")`);
  } catch {
    problems.push(`--target is not a URL (got "${raw}")`);
  }
  return null;
}

/** Machine limits, before any work: one open file per connection in each process. */
function checkOpenFiles(clients: number, perClient: number, target: string | null, problems: string[]): void {
  const limit = openFilesLimit();
  if (limit && clients * perClient + FD_MARGIN > limit.hard) {
    problems.push(`${clients} clients need about ${clients * perClient + FD_MARGIN} open files in the generator, above this machine's hard limit of ${limit.hard} per process`);
  }
  if (limit && target === null && clients + FD_MARGIN > limit.hard) {
    problems.push(`${clients} connections need about ${clients + FD_MARGIN} open files in the reference server, above the hard limit of ${limit.hard} per process (capacity runs split the server over processes)`);
  }
}

/** `--out` must be a folder this process can write, or one it can make (not made here). */
function checkOutFolder(out: string, problems: string[]): void {
  const problem = folderProblem(out);
  if (problem !== null) problems.push(`--out ${out} is not a writable folder (${problem})`);
}

/** `--profile`: loaded and validated (every problem, with its JSON path), and fit for this run. */
function checkProfile(ref: string | undefined, transport: TransportName, workload: WorkloadName, target: string | null, problems: string[]): Profile | null {
  if (ref === undefined) return null;
  const loaded = loadProfile(ref);
  problems.push(...loaded.problems);
  if (target === null && !ref.startsWith(BUILTIN_PREFIX)) problems.push(`--profile ${ref} describes a server of yours: give its address with --target URL`);
  if (loaded.problems.length > 0) return null;
  if (loaded.profile.transports[transport] === undefined) {
    problems.push(`--profile ${ref}: describes no ${transport} subscription ($.transports.${transport}); it has ${Object.keys(loaded.profile.transports).join(', ')}`);
    return null;
  }
  return loaded.profile;
}

/** A command's name (`--name`, else `<command>-<time>`) and its folder under `--out`. */
export function nameAndFolder(v: OptionValues, command: string): { name: string; outDir: string } {
  const name = (v.name as string | undefined) ?? `${command}-${timeStamp()}`;
  return { name, outDir: join(v.out as string, fileSafe(name)) };
}

/** `when` as a compact UTC stamp for default names: `20250115T120000`. */
export function timeStamp(when = new Date()): string {
  return when.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

export function defaultRunName(s: RunSettings, when = new Date()): string {
  return `${s.transport}-${s.workload}-${s.clients}c-${timeStamp(when)}`;
}

/**
 * `--large-topic BYTES`: the reference server's publisher gives topic t0 messages of BYTES; its
 * subscribers (ids ≡ 0 mod --topics) are recorded apart. Only where one topic among others is fed
 * by that publisher (broadcast, no --target or --profile), larger than the others' payload, and
 * not beside --slow-clients (a client would belong to both apart sets).
 */
function checkLargeTopic(v: OptionValues, problems: string[]): number | undefined {
  const bytes = v.largeTopic as number | undefined;
  if (bytes === undefined) return undefined;
  const before = problems.length;
  if (v.target !== undefined || v.profile !== undefined || v.socketio) problems.push('--large-topic shapes the reference server\'s own publisher: not with --target, --profile or --socketio');
  if (v.workload !== 'broadcast') problems.push(`--large-topic makes one of the broadcast topics large: not with --workload ${String(v.workload)} (fanout gives each client its own topic, chat's clients publish)`);
  else if ((v.topics as number) < 2) problems.push('--large-topic needs --topics 2 or more: with one topic every client subscribes the large one and none is left to measure');
  if (bytes <= (v.payload as number)) problems.push(`--large-topic ${bytes} must be larger than --payload ${String(v.payload)}`);
  if (v.slowClients !== undefined) problems.push('--large-topic and --slow-clients each keep clients apart: give one of them');
  return problems.length === before ? bytes : undefined;
}

/** `5%:10KB/s` → the slow share and its read rate; a sentence when it is not that. */
export function parseSlowClients(text: string): { share: number; readBytesPerS: number } | string {
  const m = /^\s*([^:]+):\s*([^/]+)\/s\s*$/.exec(text);
  const share = m ? parseFraction(m[1]) : undefined;
  const rate = m ? parseBytes(m[2]) : undefined;
  if (!m || share === undefined || rate === undefined) return `--slow-clients must look like 5%:10KB/s (got "${text}")`;
  if (!(share > 0 && share < 1)) return `--slow-clients: the share must be between 0 % and 100 % (got ${m[1]})`;
  if (!(rate >= 100)) return `--slow-clients: the read rate must be at least 100 B/s (got ${m[2]}/s)`;
  return { share, readBytesPerS: rate };
}
