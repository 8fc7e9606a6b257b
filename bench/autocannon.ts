/**
 * autocannon as the reference HTTP load generator of `npm run bench:generator`: run
 * programmatically in a child process pinned (taskset) to the given CPUs, so it gets exactly the
 * core pushbench gets. The child prints one JSON line with the figures and exits.
 *
 * Also the child's entry: `node --import tsx bench/autocannon.ts URL CONNECTIONS SECONDS WARMUP_S SERVER_PID`
 * (a warm-up run of WARMUP_S seconds is discarded; the measured run follows on fresh connections).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { sampleProcess } from '../load/resources.ts';
import { spawnTs } from '../core/spawn.ts';
import { GENERATOR_V8_FLAGS, repoPath } from '../core/tsx.ts';

export interface AutocannonFigures {
  connections: number;
  /** measured seconds (after the warm-up) */
  durationS: number;
  requests: number;
  /** requests / durationS */
  requestsPerS: number;
  /** mean of autocannon's one-second samples */
  requestsPerSAverage: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU of the autocannon process over the measured run, µs (null when /proc is unreadable) */
  generatorCpuUs: number | null;
  /** CPU of the server over the measured run, µs */
  serverCpuUs: number | null;
  /** the CPUs the autocannon process was allowed to run on (/proc/self/status) */
  cpusAllowed: string;
}

/** Run autocannon against `url` in a child pinned to `cpus`; resolves with its figures. */
export async function runAutocannon(
  url: string, connections: number, seconds: number, warmupS: number, serverPid: number, cpus: string | null,
): Promise<AutocannonFigures> {
  const args = [url, String(connections), String(seconds), String(warmupS), String(serverPid)];
  const child = await spawnTs(repoPath('bench/autocannon.ts'), args, {
    cpus,
    ready: /^AUTOCANNON (\{.*\})$/,
    timeoutMs: (seconds + warmupS + 30) * 1000,
    what: 'autocannon',
    // the node flags pushbench's generator runs with: same runtime, same pinning
    nodeFlags: GENERATOR_V8_FLAGS,
  });
  await child.stop();
  return JSON.parse(child.url) as AutocannonFigures;
}

interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function childMain(argv: string[]): Promise<void> {
  const [url, connections, seconds, warmupS, serverPid] = argv;
  // autocannon is CommonJS without type declarations: required, typed by what this file reads.
  const autocannon = createRequire(import.meta.url)('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;
  const base = { url, connections: Number(connections), pipelining: 1 };
  if (Number(warmupS) > 0) await autocannon({ ...base, duration: Number(warmupS) });
  const selfFrom = sampleProcess(process.pid);
  const serverFrom = sampleProcess(Number(serverPid));
  const r = await autocannon({ ...base, duration: Number(seconds) });
  const selfTo = sampleProcess(process.pid);
  const serverTo = sampleProcess(Number(serverPid));
  const figures: AutocannonFigures = {
    connections: Number(connections),
    durationS: r.duration,
    requests: r.requests.total,
    requestsPerS: r.requests.total / r.duration,
    requestsPerSAverage: r.requests.average,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    generatorCpuUs: selfFrom && selfTo ? selfTo.cpuUs - selfFrom.cpuUs : null,
    serverCpuUs: serverFrom && serverTo ? serverTo.cpuUs - serverFrom.cpuUs : null,
    cpusAllowed: /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'unknown',
  };
  process.stdout.write(`AUTOCANNON ${JSON.stringify(figures)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await childMain(process.argv.slice(2));
}
