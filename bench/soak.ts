/**
 * `npm run bench:soak`: does anything grow without bound under a long steady load? (issue 8)
 *
 * Two servers run side by side for the whole soak, each with its own generator
 * (bench/soak-generator.ts: pushbench's drivers, every transport, with client churn):
 * - the reference server (servers/serve.ts), and
 * - its peer, a bare node:http + ws server speaking the same contract (bench/soak-peer.ts), whose
 *   drift under the same load and churn is the platform's, not pushbench's.
 * Both servers share the server CPUs, both generators the load CPUs, so they see the same
 * contention. Every `--sample` the sampler reads RSS and open files of all four processes from
 * /proc, the servers' V8 heap from their /stats (as found: garbage included until V8 collects) and
 * the generators' from their status lines (right after a forced full GC: what is retained).
 *
 * After `--warmup`, a least-squares line through each series gives its slope per minute and a
 * 95 % confidence interval (reports/stats.ts slopeCi, widened for autocorrelated samples). The
 * verdict compares the interval with a stated threshold: `no leak` when the whole interval is
 * below it, `LEAK` when the whole interval is above it, `unclear` otherwise (a longer soak
 * narrows the interval). Exit code 1 when a reference-server or generator series is `LEAK`.
 *
 * Usage: `npm run bench:soak [-- --duration 10m] [--warmup 2m] [--sample 5s] …` (--help).
 */
import { TRANSPORTS } from '../load/drivers/index.ts';
import { formatHelp, parseCommandArgs, settingsOrExit, type OptionSpec } from '../core/options.ts';
import { validationError } from '../core/errors.ts';
import { cpuModel, sampleProcess, sampleProcessTree } from '../load/resources.ts';
import { spawnTs, type Spawned } from '../core/spawn.ts';
import { repoPath } from '../core/tsx.ts';
import { formatBytes } from '../core/units.ts';
import { slopeCi, type SlopeEstimate } from '../reports/stats.ts';
import type { GeneratorStatus } from './soak-generator.ts';

const SPECS: readonly OptionSpec[] = Object.freeze([
  { name: 'duration', kind: 'durationMs', arg: 'TIME', help: 'the whole soak, warm-up included', default: 600_000, min: 20_000 },
  { name: 'warmup', kind: 'durationMs', arg: 'TIME', help: 'not fitted: ramp, JIT, heaps growing to their working size (default: a fifth of --duration, at most 2m)', min: 0 },
  { name: 'sample', kind: 'durationMs', arg: 'TIME', help: 'time between samples', default: 5000, min: 500 },
  { name: 'mix', kind: 'string', arg: 'LIST', help: 'clients per transport of each generator', default: 'ws=100,sse=100,long-poll=50,short-poll=50' },
  { name: 'topics', kind: 'int', arg: 'N', help: 'topics, clients spread over them', default: 10, min: 1 },
  { name: 'rate', kind: 'ratePerS', arg: 'N/s', help: 'messages per second per topic', default: 5 },
  { name: 'payload', kind: 'bytes', arg: 'BYTES', help: 'data bytes per message', default: 64 },
  { name: 'churn', kind: 'fraction', arg: 'SHARE', help: 'share of each transport\'s clients that leave (and are replaced) every --churn-every', default: 0.1 },
  { name: 'churn-every', kind: 'durationMs', arg: 'TIME', help: 'churn period', default: 10_000, min: 1000 },
  { name: 'poll-interval', kind: 'durationMs', arg: 'TIME', help: 'short-poll period', default: 1000, min: 100, bareUnit: 'ms' },
  { name: 'server-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of both servers (taskset list)', default: '0' },
  { name: 'load-cpus', kind: 'string', arg: 'LIST', help: 'CPUs of both generators', default: '1' },
  { name: 'no-peer', kind: 'bool', help: 'soak the reference server alone' },
]);

/** Growth per minute above which a series leaks (the interval must clear it, one way or the other). */
const THRESHOLDS = { rss: 1024 * 1024, heap: 512 * 1024, fds: 0.5 } as const;
type Metric = keyof typeof THRESHOLDS;
const GENERATOR_SATURATED_ELU = 0.9;

interface Config {
  durationMs: number;
  warmupMs: number;
  sampleMs: number;
  mix: string;
  topics: number;
  ratePerS: number;
  payloadBytes: number;
  churn: number;
  churnEveryMs: number;
  pollIntervalMs: number;
  serverCpus: string;
  loadCpus: string;
  peer: boolean;
}

function parseConfig(argv: string[]): Config | 'help' {
  const p = parseCommandArgs(argv, SPECS);
  if (p === 'help') return 'help';
  const { values: v, problems } = p;
  const durationMs = v.duration as number;
  const warmupMs = (v.warmup as number | undefined) ?? Math.min(120_000, durationMs / 5);
  if (durationMs - warmupMs < 10 * (v.sample as number)) problems.push(`--duration minus --warmup must hold at least 10 samples of --sample (${(v.sample as number) / 1000} s)`);
  const known = TRANSPORTS;
  for (const part of String(v.mix).split(',')) {
    const m = /^([a-z-]+)=(\d+)$/.exec(part.trim());
    if (!m || !known.includes(m[1])) problems.push(`--mix: "${part}" is not TRANSPORT=N with TRANSPORT one of ${known.join(', ')}`);
  }
  if (problems.length) throw validationError(problems, 'bench:soak: invalid options');
  return {
    durationMs, warmupMs, sampleMs: v.sample as number, mix: v.mix as string, topics: v.topics as number,
    ratePerS: v.rate as number, payloadBytes: v.payload as number, churn: v.churn as number,
    churnEveryMs: v.churnEvery as number, pollIntervalMs: v.pollInterval as number,
    serverCpus: v.serverCpus as string, loadCpus: v.loadCpus as string, peer: !v.noPeer,
  };
}

/** One server and the generator loading it. */
interface Pair {
  label: string;
  server: Spawned;
  generator: Spawned;
  samples: { tMin: number; server: Record<Metric, number | null>; generator: Record<Metric, number | null> }[];
  eluMax: number;
  last: GeneratorStatus | null;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);

async function heapOf(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { heapUsedBytes?: number }).heapUsedBytes ?? null;
  } catch {
    return null;
  }
}

function lastStatus(g: Spawned): GeneratorStatus | null {
  const line = g.stdoutTail().reverse().find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as GeneratorStatus) : null;
}

async function startPair(cfg: Config, label: string, script: string, args: string[], ready: RegExp): Promise<Pair> {
  const server = await spawnTs(repoPath(script), args, { cpus: cfg.serverCpus, ready, what: `the ${label} server` });
  const generator = await spawnTs(repoPath('bench/soak-generator.ts'), [
    '--url', server.url, '--mix', cfg.mix, '--topics', String(cfg.topics), '--churn', String(cfg.churn),
    '--churn-every-ms', String(cfg.churnEveryMs), '--poll-interval-ms', String(cfg.pollIntervalMs),
  ], { cpus: cfg.loadCpus, ready: /^soak generator running against (\S+)/, what: `the ${label} generator` });
  return { label, server, generator, samples: [], eluMax: 0, last: null };
}

async function sample(p: Pair, tMin: number, measuring: boolean): Promise<void> {
  const s = sampleProcessTree(p.server.pid, { fds: true });
  const g = sampleProcess(p.generator.pid, { fds: true });
  const status = lastStatus(p.generator);
  p.last = status ?? p.last;
  if (measuring && status) p.eluMax = Math.max(p.eluMax, status.elu);
  p.samples.push({
    tMin,
    server: { rss: s?.rssBytes ?? null, heap: await heapOf(p.server.url), fds: s?.fds ?? null },
    generator: { rss: g?.rssBytes ?? null, heap: status?.heapAfterGcBytes || null, fds: g?.fds ?? null },
  });
}

type Verdict = 'no leak' | 'LEAK' | 'unclear' | 'no data';

function judge(e: SlopeEstimate | null, threshold: number): Verdict {
  if (!e || e.lo === null || e.hi === null) return 'no data';
  if (e.hi < threshold) return 'no leak';
  if (e.lo > threshold) return 'LEAK';
  return 'unclear';
}

function fit(p: Pair, who: 'server' | 'generator', m: Metric, fromMin: number): SlopeEstimate | null {
  const pts = p.samples.filter((x) => x.tMin >= fromMin && x[who][m] !== null);
  if (pts.length < 3) return null;
  return slopeCi(pts.map((x) => x.tMin), pts.map((x) => x[who][m]!));
}

const fmt = (m: Metric, v: number) => (m === 'fds' ? v.toFixed(2) : `${v < 0 ? '-' : ''}${formatBytes(Math.abs(v))}`);

/** Start the pairs and sample them every --sample until --duration or SIGINT/SIGTERM; the pairs are stopped in any case. */
async function soak(cfg: Config): Promise<{ pairs: Pair[]; interrupted: boolean }> {
  const serverArgs = ['--rate', String(cfg.ratePerS), '--topics', String(cfg.topics), '--payload', String(cfg.payloadBytes)];
  const pairs: Pair[] = [];
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    pairs.push(await startPair(cfg, 'reference', 'servers/serve.ts', ['--port', '0', '--host', '127.0.0.1', ...serverArgs], /^pushbench listening on (http:\/\/\S+)/));
    if (cfg.peer) pairs.push(await startPair(cfg, 'peer', 'bench/soak-peer.ts', serverArgs, /^soak peer listening on (http:\/\/\S+)/));
    log(`bench:soak: ${(cfg.durationMs / 60_000).toFixed(1)} min (warm-up ${(cfg.warmupMs / 60_000).toFixed(1)} min), a sample every ${cfg.sampleMs / 1000} s; ${pairs.map((p) => `${p.label} server pid ${p.server.pid}, generator pid ${p.generator.pid}`).join('; ')}`);
    await sampleUntil(cfg, pairs, interrupted.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(pairs.flatMap((p) => [p.generator.stop(), p.server.stop()]));
  }
  return { pairs, interrupted: interrupted.signal.aborted };
}

/** A sample of every pair each --sample, on a fixed schedule from the start, until --duration or `stop`; a progress line a minute. */
async function sampleUntil(cfg: Config, pairs: Pair[], stop: AbortSignal): Promise<void> {
  const t0 = performance.now();
  const warmMin = cfg.warmupMs / 60_000;
  for (let k = 0; ; k++) {
    const due = t0 + k * cfg.sampleMs;
    if (due - t0 > cfg.durationMs || stop.aborted) break;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    if (stop.aborted) break;
    const tMin = (performance.now() - t0) / 60_000;
    await Promise.all(pairs.map((p) => sample(p, tMin, tMin >= warmMin)));
    if (k % Math.max(1, Math.round(60_000 / cfg.sampleMs)) === 0) {
      log(pairs.map((p) => {
        const s = p.samples.at(-1)!;
        return `${tMin.toFixed(1)} min ${p.label}: server RSS ${fmt('rss', s.server.rss ?? 0)}, fds ${s.server.fds}; generator RSS ${fmt('rss', s.generator.rss ?? 0)}, open ${p.last?.open ?? '?'}/${p.last?.clients ?? '?'}, churned ${p.last?.churned ?? 0}`;
      }).join(' | '));
    }
  }
}

/** The report on stdout; returns the exit code: 1 when a reference-server or generator series is `LEAK`. */
function report(cfg: Config, pairs: Pair[], startedAt: Date, interrupted: boolean): number {
  const warmMin = cfg.warmupMs / 60_000;
  const elapsedMin = pairs[0]?.samples.at(-1)?.tMin ?? 0;
  out(`## bench:soak — ${startedAt.toISOString()}`);
  out();
  out(`${elapsedMin.toFixed(1)} min soak${interrupted ? ' (INTERRUPTED: partial)' : ''}, fitted after a ${warmMin.toFixed(1)} min warm-up; a sample every ${cfg.sampleMs / 1000} s. ` +
    `Each generator: ${cfg.mix} clients on ${cfg.topics} topics at ${cfg.ratePerS} msg/s each, ${cfg.payloadBytes} B payload, short polls every ${cfg.pollIntervalMs} ms; ` +
    `${(cfg.churn * 100).toFixed(0)} % of each transport's clients leave and are replaced every ${cfg.churnEveryMs / 1000} s. ` +
    `Servers on CPU ${cfg.serverCpus}, generators on CPU ${cfg.loadCpus}; ${cpuModel()}, Node ${process.version}.`);
  out();
  out(`Verdict: "no leak" when the 95 % interval of the slope lies wholly below the threshold, "LEAK" when wholly above, "unclear" otherwise. Thresholds per minute: RSS ${formatBytes(THRESHOLDS.rss)}, heap ${formatBytes(THRESHOLDS.heap)}, open files ${THRESHOLDS.fds}.`);
  out();
  out('Heap: the servers\' as found (garbage included until V8 collects, so a slope may be a heap still growing to its working size); the generators\' right after a forced full GC (retained only).');
  out();
  const { leaked, slopes } = printSeries(pairs, warmMin);
  out();
  const ref = pairs.find((p) => p.label === 'reference');
  const peer = pairs.find((p) => p.label === 'peer');
  if (ref && peer) printServerComparison(ref, peer, slopes, warmMin, elapsedMin);
  for (const p of pairs) {
    const s = p.last;
    out(`- ${p.label} generator: ${s ? `${s.delivered.toLocaleString('en-US')} messages delivered, ${s.churned} clients churned, ${s.reconnects} reconnects, ${s.errors} errors, ${s.open}/${s.clients} open at the end` : 'no status'}; event-loop utilization max ${(p.eluMax * 100).toFixed(0)} %${p.eluMax > GENERATOR_SATURATED_ELU ? ' — SATURATED: the load was not steady, the soak is invalid' : ''}`);
  }
  return leaked ? 1 : 0;
}

/**
 * The table of every series after the warm-up: its fitted slope, interval and verdict. `leaked`:
 * a series other than the peer server's is `LEAK`; `slopes` by `label/who/metric`.
 */
function printSeries(pairs: Pair[], warmMin: number): { leaked: boolean; slopes: Map<string, SlopeEstimate | null> } {
  out('| process | series | after warm-up | at end | slope / min | 95 % interval / min | verdict |');
  out('|---|---|---:|---:|---:|---:|---|');
  let leaked = false;
  const slopes = new Map<string, SlopeEstimate | null>();
  for (const p of pairs) {
    for (const who of ['server', 'generator'] as const) {
      for (const m of Object.keys(THRESHOLDS) as Metric[]) {
        const e = fit(p, who, m, warmMin);
        slopes.set(`${p.label}/${who}/${m}`, e);
        const pts = p.samples.filter((x) => x.tMin >= warmMin && x[who][m] !== null);
        const verdict = judge(e, THRESHOLDS[m]);
        if (verdict === 'LEAK' && !(p.label === 'peer' && who === 'server')) leaked = true;
        const first = pts[0]?.[who][m];
        const last = pts.at(-1)?.[who][m];
        out(`| ${p.label} ${who} | ${m} | ${first == null ? '—' : fmt(m, first)} | ${last == null ? '—' : fmt(m, last)} | ${e ? fmt(m, e.slope) : '—'} | ${e?.lo != null ? `${fmt(m, e.lo)} … ${fmt(m, e.hi!)}` : '—'} | ${verdict} |`);
      }
    }
  }
  return { leaked, slopes };
}

/** The reference server's growth beside the peer's, series by series (a series either lacks is left out). */
function printServerComparison(ref: Pair, peer: Pair, slopes: Map<string, SlopeEstimate | null>, warmMin: number, elapsedMin: number): void {
  // Slopes near zero make a slope ratio meaningless; the ratio is of the growth over the fitted
  // span relative to each server's own size, next to the absolute difference of the slopes.
  for (const m of ['rss', 'heap', 'fds'] as Metric[]) {
    const a = slopes.get(`reference/server/${m}`);
    const b = slopes.get(`peer/server/${m}`);
    const size = (p: Pair) => p.samples.filter((x) => x.tMin >= warmMin).map((x) => x.server[m]).find((x) => x !== null) ?? null;
    const sa = size(ref);
    const sb = size(peer);
    if (!a || !b || !sa || !sb) continue;
    const span = elapsedMin - warmMin;
    const growA = (a.slope * span) / sa;
    const growB = (b.slope * span) / sb;
    out(`- server ${m}: reference ${fmt(m, a.slope)}/min vs peer ${fmt(m, b.slope)}/min (difference ${fmt(m, a.slope - b.slope)}/min); growth over the fitted ${span.toFixed(1)} min relative to size: reference ${(growA * 100).toFixed(2)} %, peer ${(growB * 100).toFixed(2)} %, ratio ${Math.abs(growB) > 1e-9 ? (growA / growB).toFixed(2) : 'n/a'}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = settingsOrExit(() => parseConfig(argv), () => formatHelp('npm run bench:soak -- [options]', 'A long steady mixed load with churn; fits the growth of RSS, heap and open files and judges leak / no leak, beside a bare peer server.', SPECS));
  if ('exitCode' in parsed) return parsed.exitCode;
  const cfg = parsed.settings;
  const startedAt = new Date();
  const { pairs, interrupted } = await soak(cfg);
  return report(cfg, pairs, startedAt, interrupted);
}

process.exitCode = await main(process.argv.slice(2));
