/**
 * One sentence per compared figure, with its numbers: what the verdict rests on (the test, the
 * runs, the adjusted p) and, when nothing failed, what the spread could have caught. Pure.
 */
import { TEST_LABEL } from './change-stats.ts';
import type { MetricComparison } from './comparison.ts';
import { formatChange, formatThreshold } from './metrics.ts';

type Explained = Omit<MetricComparison, 'explanation'>;

/** `+12.3 % [+8.1 %, +16.0 %]`, or `+12.3 % (no test)`, or `unknown`. */
export function changeCell(m: Pick<MetricComparison, 'metric' | 'change' | 'lo' | 'hi'>): string {
  if (m.change === null) return 'unknown';
  const f = (v: number) => formatChange(m.metric.kind, v);
  return m.lo === null || m.hi === null ? `${f(m.change)} (no test)` : `${f(m.change)} [${f(m.lo)}, ${f(m.hi)}]`;
}

/** `Welch t on log values, 3|3 runs` or `paired t on log ratios, 5 pairs`; `no test, 1|3 runs`. */
export function testCell(m: Pick<MetricComparison, 'test' | 'n' | 'paired'>): string {
  const n = m.paired ? `${m.n.baseline} pair${m.n.baseline === 1 ? '' : 's'}` : `${m.n.baseline}|${m.n.current} runs`;
  return `${m.test === null ? 'no test' : TEST_LABEL[m.test]}, ${n}`;
}

/** `≥ +23.4 %`: the smallest regression the spread could have caught; `—` without one. */
export function detectableCell(m: Pick<MetricComparison, 'metric' | 'detectable' | 'needsRuns' | 'paired'>): string {
  if (m.needsRuns !== undefined) return `needs ≥ ${m.needsRuns} ${m.paired ? 'pairs' : 'runs a side'}`;
  return m.detectable === null ? '—' : `≥ ${formatChange(m.metric.kind, m.detectable)}`;
}

const pText = (p: number | null) => (p === null ? '' : p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

export function explain(m: Explained, alpha: number): string {
  const name = m.metric.key;
  const t = formatThreshold(m.metric.kind, m.threshold);
  const change = changeCell(m);
  const how = `${testCell(m)}`;
  const resolution = m.detectable === null ? '' : `; this spread catches a change of ${detectableCell(m)}`;
  switch (m.status) {
    case 'unknown':
      return `${name}: not measured in the ${m.baseline.n === 0 ? 'baseline' : 'current'} runs`;
    case 'info':
      return `${name} ${change}: reported, not gated`;
    case 'regression':
      return `${name} ${change} is worse than the ${t} threshold: ${how}, one-sided ${pText(m.p)} < ${alpha} after adjusting for the figures compared`;
    case 'improvement':
      return `${name} ${change} is better by more than ${t}: ${how}, significant after adjusting for the figures compared`;
    case 'unclear':
      return m.needsRuns !== undefined
        ? `${name} ${change} is beyond the ${t} threshold, but there is no test (${how}): unclear — needs ≥ ${m.needsRuns} ${m.paired ? 'pairs' : 'runs a side'}`
        : `${name} ${change} is beyond the ${t} threshold, not significantly (${how}, ${pText(m.p)} ≥ ${alpha})${resolution}`;
    case 'ok':
      return `${name} ${change} is within the ${t} threshold${resolution}`;
    case 'ungated': {
      const s = m.sameMachineStatus;
      const would = s === 'regression' ? `worse than the ${t} threshold (${pText(m.p)}): a regression against a baseline from this machine`
        : s === 'improvement' ? `better by more than ${t}` : s === 'unclear' ? `beyond the ${t} threshold, not significant` : `within the ${t} threshold`;
      return `${name} ${change} is ${would}; not gated: the baseline was made on another machine`;
    }
  }
}
