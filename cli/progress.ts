/**
 * Progress for long runs: a live line rewritten in place on a TTY, plain periodic lines
 * elsewhere (CI logs), so a user always sees that a run is alive and how it is doing.
 */
import { formatUs } from '../core/units.ts';
import type { Progress } from '../load/runner.ts';
import type { WorkerTick } from '../load/worker.ts';

/**
 * The live line's p50/p99 for one second from the workers' own percentiles, so the main thread
 * decodes no histogram while a run goes on. Exact with one worker; with several, p50 is the
 * delivery-weighted mean of theirs and p99 the largest (an upper bound). The record's timeline
 * is exact: it merges the encoded histograms once the run has ended.
 */
export function progressPercentiles(ticks: readonly WorkerTick[]): { p50: number; p99: number } {
  let n = 0;
  let p50 = 0;
  let p99 = 0;
  for (const k of ticks) {
    if (k.deliveries === 0) continue;
    n += k.deliveries;
    p50 += k.p50Us * k.deliveries;
    p99 = Math.max(p99, k.p99Us);
  }
  return { p50: n > 0 ? p50 / n : 0, p99 };
}

export interface ProgressPrinter {
  update(p: Progress): void;
  /** print a line above the live line */
  log(line: string): void;
  done(): void;
}

export function formatProgress(p: Progress): string {
  const t = `${Math.max(0, Math.floor(p.elapsedS)).toString().padStart(3)}s/${Math.ceil(p.totalS)}s`;
  const srv = p.serverCpuPct === null ? '' : ` srv cpu ${p.serverCpuPct.toFixed(0)}%`;
  return `[${t}] ${p.name} ${p.phase.padEnd(7)} clients ${p.started}/${p.clients} open ${p.open}  ${Math.round(p.deliveriesPerS).toLocaleString('en-US')} msg/s  p50 ${formatUs(p.p50Us)} p99 ${formatUs(p.p99Us)}  gen elu ${(p.generatorElu * 100).toFixed(0)}% loop ${p.generatorLoopDelayP99Ms.toFixed(0)}ms${srv}`;
}

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, everyS = 5): ProgressPrinter {
  const live = Boolean(stream.isTTY) && !process.env.CI;
  let lastPrinted = -Infinity;
  let shown = false;
  return {
    update(p) {
      if (live) {
        stream.write(`\r\x1b[K${formatProgress(p).slice(0, (stream.columns || 160) - 1)}`);
        shown = true;
      } else if (p.elapsedS - lastPrinted >= everyS) {
        lastPrinted = p.elapsedS;
        stream.write(`${formatProgress(p)}\n`);
      }
    },
    log(line) {
      if (live && shown) stream.write('\r\x1b[K');
      stream.write(`${line}\n`);
    },
    done() {
      if (live && shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
