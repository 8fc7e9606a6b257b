#!/usr/bin/env node
// `npm test`: the suite's three lanes (vitest.config.ts, test/lanes.ts) as three vitest processes.
// The heavy files one at a time beside the light files one at a time; once the heavy lane is
// done, two light files at a time; then the files that run alone. One report is merged from the
// three (.tmp/vitest-results.json, as `vitest run` writes it). Vitest alone cannot run one lane
// beside another with its own worker count: its `maxWorkers` is one pool for every project, and a
// `singleFork` project waits for its group's other files. Arguments (`npm test -- test/load/run.test.ts`) go to a plain `vitest run`.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const BLOBS = join(ROOT, '.tmp', 'vitest-blobs');
const RESULTS = join(ROOT, '.tmp', 'vitest-results.json');
/** Written when the heavy lane ends; the light lane's second worker starts its first file then. */
const HEAVY_DONE = join(ROOT, '.tmp', 'heavy-lane-done');
/** test/setup.ts reads the file to wait for from this variable. */
const SECOND_SLOT_ENV = 'PUSHBENCH_TEST_SECOND_SLOT_AFTER';
/** Lines of each failed test's error in the summary: the assertion and its diff, not the stack. */
const WHY_LINES = 12;

const children = new Set();
let interrupted = false;

/**
 * The light lane's runs pin the other way round (PUSHBENCH_SERVER_CPUS / PUSHBENCH_LOAD_CPUS, the
 * defaults of --server-cpus / --load-cpus): their generators share the second half of the CPUs
 * with the heavy file's server, not the first half with its generator, so a heavy run's
 * generator meets only the light runs' servers. The mirror of load/run/machine.ts's
 * defaultCpuSplit, written again here because this script runs on plain node, before any loader.
 */
function lightPins() {
  const n = cpus().length;
  if (n < 2) return {};
  const half = Math.floor(n / 2);
  const list = (a, b) => (a === b ? `${a}` : `${a}-${b}`);
  return { PUSHBENCH_SERVER_CPUS: list(half, n - 1), PUSHBENCH_LOAD_CPUS: list(0, half - 1) };
}

/** Resolves with `child`'s exit code (1 when it was killed by a signal). */
function exitCode(child) {
  return new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
}

/** Passes `from` on to `to` a whole line at a time, so two lanes' lines never interleave mid-line. */
function lines(from, to) {
  createInterface({ input: from, crlfDelay: Infinity }).on('line', (l) => to.write(`${l}\n`));
  return once(from, 'close');
}

/**
 * Runs vitest with `args`, `env` added; resolves with its exit code once its output is passed on. Its output is piped, not the terminal: two vitest
 * processes redrawing one terminal's live summary would garble it; colours stay when this
 * process's output is a terminal.
 */
async function vitest(args, env = {}) {
  const colour = process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: '1' } : {};
  // in this process's group: a Ctrl-C from the terminal reaches the lanes and everything they start
  const child = spawn(process.execPath, [VITEST, ...args], { cwd: ROOT, stdio: ['inherit', 'pipe', 'pipe'], env: { ...process.env, ...colour, ...env } });
  children.add(child);
  const passed = Promise.all([lines(child.stdout, process.stdout), lines(child.stderr, process.stderr)]);
  const code = await exitCode(child);
  children.delete(child);
  // the pipes close once drained, unless something the lane started and left holds them: then a
  // second is enough for what vitest itself wrote
  await Promise.race([passed, new Promise((r) => setTimeout(r, 1000).unref())]);
  return code;
}

function lane(name, workers, env = {}) {
  const w = String(workers);
  return vitest(['run', '--project', name, '--maxWorkers', w, '--minWorkers', w, '--reporter', 'default', '--reporter', 'blob',
    `--outputFile.blob=${join(BLOBS, `${name}.json`)}`], env);
}

/**
 * The first lines of a failed test's first error, indented: a CI log that keeps only its tail
 * still says why each test failed, not only which.
 */
function why(messages = []) {
  const plain = (messages[0] ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  return plain.split('\n').filter((l) => l.trim() && !/^\s+at /.test(l)).slice(0, WHY_LINES).map((l) => `      ${l.slice(0, 240)}`);
}

/** The merged report's totals and failed tests (each with why), from the JSON reporter's file. */
function summary(seconds) {
  let r;
  try { r = JSON.parse(readFileSync(RESULTS, 'utf8')); } catch { return { ok: false, text: [`no merged report at ${RESULTS}`] }; }
  const failed = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed')
    .flatMap((a) => [`  FAIL ${f.name.replace(ROOT, '')} > ${a.fullName}`, ...why(a.failureMessages)]));
  const broken = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed')).map((f) => `  FAIL ${f.name.replace(ROOT, '')}: ${(f.message || 'failed to run').split('\n')[0]}`);
  const text = [
    '',
    `all lanes: ${r.testResults.length} files, tests ${r.numPassedTests} passed, ${r.numFailedTests} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ''} in ${seconds.toFixed(1)} s`,
    ...failed, ...broken,
  ];
  return { ok: r.success && failed.length === 0 && broken.length === 0, text };
}

async function main(argv) {
  if (argv.length > 0) {
    // one vitest process: the terminal is its own
    const child = spawn(process.execPath, [VITEST, 'run', ...argv], { cwd: ROOT, stdio: 'inherit' });
    children.add(child);
    return exitCode(child);
  }
  const t0 = performance.now();
  rmSync(BLOBS, { recursive: true, force: true });
  rmSync(RESULTS, { force: true });
  mkdirSync(BLOBS, { recursive: true });
  // One light file beside the heavy one, not two: on a slower hour of this VM, three files at once
  // starved a heavy run's generator or server (docs/testing.md). The light lane's second worker
  // waits (test/setup.ts) until the heavy lane is done, then two light files run at once.
  rmSync(HEAVY_DONE, { force: true });
  const heavy = lane('heavy', 1).then((code) => { writeFileSync(HEAVY_DONE, `${code}\n`); return code; });
  const codes = await Promise.all([heavy, lane('light', 2, { ...lightPins(), [SECOND_SLOT_ENV]: HEAVY_DONE })]);
  if (!interrupted) codes.push(await lane('alone', 1));
  if (interrupted) {
    console.error('interrupted: the lanes were stopped, no merged report');
    return 130;
  }
  const merged = await vitest(['run', '--merge-reports', BLOBS, '--reporter', 'json', `--outputFile.json=${RESULTS}`]);
  const s = summary((performance.now() - t0) / 1000);
  for (const l of s.text) console.log(l);
  return codes.every((c) => c === 0) && merged === 0 && s.ok ? 0 : 1;
}

// Ctrl-C reaches every lane, its workers and their servers from the terminal, as they share its
// process group; vitest exits at once. A SIGINT sent to this process alone (npm passes one on too)
// is passed on to the lanes still running a second later; a TERM at once. Then exit 130.
process.on('SIGINT', () => {
  interrupted = true;
  setTimeout(() => { for (const c of children) c.kill('SIGINT'); }, 1000).unref();
});
process.on('SIGTERM', () => {
  interrupted = true;
  for (const c of children) c.kill('SIGTERM');
});

process.exitCode = await main(process.argv.slice(2));
