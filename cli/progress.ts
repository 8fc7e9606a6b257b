/**
 * Progress for long runs: a live line rewritten in place on a TTY, plain periodic lines
 * elsewhere (CI logs), so a user always sees that a run is alive and how it is doing.
 */
import { formatUs } from '../core/units.ts';
import type { Progress } from '../load/progress.ts';

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
