/**
 * `pushbench run`: one transport, one workload, many clients, measured end to end. Validates
 * everything first (exit 2 with every problem), shows live progress, prints the summary table,
 * writes the result atomically (partial and marked incomplete on Ctrl-C) and the report.
 */
import { TARGET_ONLY_TRANSPORTS, TRANSPORTS } from '../load/drivers/index.ts';
import { join } from 'node:path';
import type { TransportName } from '../core/wire.ts';
import { writeJsonAtomic, type ResultRecord } from '../core/record.ts';
import { validationError } from '../core/errors.ts';
import { formatHelp, parseCommandArgs } from '../core/options.ts';
import { progressPrinter } from './progress.ts';
import { RUN_OPTION_SPECS, defaultRunName, fileSafe, loadSettings, parseSlowClients } from './run-options.ts';
import { runOnce, type RunSettings } from '../load/runner.ts';
import { formatFaultTable, formatLargeTopic, formatSlowClients, formatSummaryTable } from './summary.ts';
import { parseFaults } from '../load/faults.ts';
import { interruptible } from './interrupt.ts';
import { isShardRun, shardCommand } from './shard-command.ts';
import { assertionsOption, checkAssertions, type Assertion } from '../gate/assert.ts';
import { formatSocketio } from '../load/run/socketio-figures.ts';

export const RUN_USAGE = `pushbench run --transport ${TRANSPORTS.join('|')} [options]`;
const RUN_DESCRIPTION = `Runs one transport under a workload with many simulated clients on worker threads and
records delivery latency (HDR, from each message's scheduled time), connect and request latency
(corrected and raw), loss, duplicates, server and generator CPU, memory and bytes on the wire.
Writes <out>/<name>.json and a report in <out>/<name>/.
With --plan FILE it runs one shard of a plan instead ('pushbench run --plan FILE --help').`;

/** Parse and validate `run`'s argv; throws PB_BAD_OPTION listing every problem. */
export function parseRunArgs(argv: string[]): { settings: RunSettings; noReport: boolean; outDir: string; assertions: Assertion[] } | 'help' {
  const parsed = parseCommandArgs(argv, RUN_OPTION_SPECS);
  if (parsed === 'help') return 'help';
  const { problems } = parsed;
  const transport = parsed.values.transport as TransportName | undefined;
  if (transport === undefined && !problems.some((p) => p.startsWith('--transport'))) problems.push(`--transport is required (one of ${TRANSPORTS.join(', ')})`);
  const settings = loadSettings(parsed.values, transport ?? (parsed.values.socketio ? TARGET_ONLY_TRANSPORTS[0] : TRANSPORTS[0]), problems);
  if (parsed.values.slowClients !== undefined && parsed.values.socketio) problems.push('--slow-clients throttles the reference transports\' sockets; a Socket.IO client reads at full speed');
  else if (parsed.values.slowClients !== undefined) {
    const slow = parseSlowClients(parsed.values.slowClients as string);
    if (typeof slow === 'string') problems.push(slow);
    else settings.slowClients = slow;
  }
  settings.faults = parseFaults((parsed.values.fault as string[] | undefined) ?? [], { ...settings, proxied: settings.proxy !== null, cutHook: settings.targetProfile?.socketio !== undefined }, problems);
  const assertions = assertionsOption(parsed.values.assert, problems);
  if (problems.length) throw validationError(problems);
  settings.name = (parsed.values.name as string | undefined) ?? defaultRunName(settings);
  return { settings, noReport: Boolean(parsed.values.noReport), outDir: parsed.values.out as string, assertions };
}

/** Write the record and (unless asked not to) its report; returns the paths written. */
export async function saveRun(record: ResultRecord, outDir: string, withReport: boolean): Promise<string[]> {
  const base = fileSafe(record.name);
  const file = join(outDir, `${base}.json`);
  writeJsonAtomic(file, record);
  const written = [file];
  if (withReport) {
    const { writeReport } = await import('../reports/report.ts');
    const { files } = await writeReport([record], join(outDir, base), { title: `pushbench run: ${record.name}` });
    written.push(...files.filter((f) => f.endsWith('report.html')));
  }
  return written;
}

export async function runCommand(argv: string[]): Promise<number> {
  if (isShardRun(argv)) return shardCommand(argv);
  const parsed = parseRunArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(formatHelp(RUN_USAGE, RUN_DESCRIPTION, RUN_OPTION_SPECS));
    return 0;
  }
  const { settings, noReport, outDir, assertions } = parsed;
  const out = progressPrinter();
  out.log(`pushbench run ${settings.name}: ${settings.transport}, ${settings.workload}, ${settings.clients} clients, ${settings.durationMs / 1000} s (warm-up ${settings.warmupMs / 1000} s), ${settings.ratePerS} msg/s per topic, ${settings.payloadBytes} B payload, network ${settings.network}`);
  let signalled = false;
  const record = await interruptible(async (signal) => {
    const r = await runOnce(settings, { signal, onProgress: (p) => out.update(p), log: (l) => out.log(l) });
    signalled = signal.aborted;
    return r;
  });
  out.done();
  const files = await saveRun(record, outDir, !noReport);
  process.stdout.write(`\n${formatSummaryTable([record])}\n\n`);
  if (record.faults?.length) process.stdout.write(`${formatFaultTable(record.faults)}\n\n`);
  if (record.slowClients) process.stdout.write(`${formatSlowClients(record.slowClients)}\n\n`);
  if (record.largeTopic) process.stdout.write(`${formatLargeTopic(record.largeTopic)}\n\n`);
  if (record.socketio) process.stdout.write(`${formatSocketio(record.socketio, record.summary.clients)}\n\n`);
  for (const f of files) process.stdout.write(`wrote ${f}\n`);
  if (!record.complete) {
    if (signalled) {
      process.stderr.write('run interrupted: partial result written, marked complete: false\n');
      return 130;
    }
    process.stderr.write(`run ended early (${record.invalidReasons[0] ?? 'unknown reason'}): partial result written, marked complete: false\n`);
    return 1;
  }
  const gate = checkAssertions(assertions, [record]);
  for (const line of gate.lines) (gate.passed ? process.stdout : process.stderr).write(`${line}\n`);
  return gate.passed ? 0 : 1;
}
