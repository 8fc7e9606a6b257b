/**
 * The gate across machines: latency and CPU move with the machine, so against a baseline made on
 * another CPU model, core count or Node version those metrics are compared but not gated (a change
 * beyond its threshold is reported with the verdict it would have on one machine), while lost,
 * errors, bytes and requests per message stay gated. Every output says which machine each side
 * was made on and what that leaves ungated.
 */
import { describe, expect, it } from 'vitest';
import { compareRuns, COMPARE_METRICS, machinesOf, planComparison, type ComparisonResult } from '../../gate/compare.ts';
import { formatComparisonMarkdown, formatComparisonText, formatJunit } from '../../gate/compare-format.ts';
import type { Environment, ResultRecord } from '../../core/record.ts';
import { repeat, repeats } from './helpers.ts';
import { findAll, parseXml } from './xml.ts';

const ws = { transport: 'ws' as const };
const on = (env: Partial<Environment>) => (rs: ResultRecord[]) => rs.map((r) => ({ ...r, environment: { ...r.environment, ...env } }));
const elsewhere = on({ cpuModel: 'Intel(R) Xeon(R) Processor', cores: 4 });

/** p50 +25 % and 0.5 % of the messages lost on the current side; `move` puts it on another machine. */
function compared(move: (rs: ResultRecord[]) => ResultRecord[] = (rs) => rs): ComparisonResult {
  const baseline = repeats(ws, 'p50Us', [1000, 1020, 990], 'b');
  const current = move(repeats(ws, 'p50Us', [1250, 1270, 1240], 'c').map((r) => ({ ...r, summary: { ...r.summary, lost: Math.round(r.summary.expected * 0.005) } })));
  const plan = planComparison(baseline, current);
  expect(plan.problems).toEqual([]);
  return compareRuns(plan);
}

const metric = (r: ComparisonResult, key: string) => r.groups[0].metrics.find((m) => m.metric.key === key)!;

describe('the gate across machines', () => {
  it('says which metrics depend on the machine: latency, CPU, connections, RSS; not lost, errors, bytes, requests', () => {
    expect(COMPARE_METRICS.filter((m) => !m.machineDependent).map((m) => m.key)).toEqual(['bytes', 'requests', 'lost', 'undelivered', 'errors']);
  });

  it('same machine: the p50 regression and the loss are both gated', () => {
    const r = compared();
    expect(r.machines).toEqual({ baseline: ['AMD EPYC 7B13 ×2, Node v20.18.0'], current: ['AMD EPYC 7B13 ×2, Node v20.18.0'], same: true });
    expect(metric(r, 'p50').status).toBe('regression');
    expect(metric(r, 'lost').status).toBe('regression');
    expect(r.regressions).toBe(2);
    expect(formatComparisonText(r)).toContain('gate: same machine (CPU model, cores, Node): every metric with a threshold is gated');
  });

  it('another CPU: p50 is reported as a regression on one machine but not gated; the loss still fails the gate', () => {
    const r = compared(elsewhere);
    expect(r.machines.same).toBe(false);
    expect(r.machines.current).toEqual(['Intel(R) Xeon(R) Processor ×4, Node v20.18.0']);
    const p50 = metric(r, 'p50');
    expect(p50).toMatchObject({ status: 'ungated', sameMachineStatus: 'regression' });
    expect(p50.explanation).toMatch(/^p50 \+24\.9 % .* is worse than the 10 % threshold \(p [<=] [\d.]+\): a regression against a baseline from this machine; not gated: the baseline was made on another machine$/);
    // every machine-dependent metric with a threshold is ungated, within its threshold or not
    expect(metric(r, 'cpu')).toMatchObject({ status: 'ungated', sameMachineStatus: 'ok' });
    expect(metric(r, 'p999').status).toBe('info');
    expect(metric(r, 'lost').status).toBe('regression');
    expect(metric(r, 'bytes').status).toBe('ok');
    expect(r.regressions).toBe(1);
    expect(r.ungatedRegressions).toBe(1);
  });

  it('another Node version or core count is another machine too', () => {
    expect(compared(on({ node: 'v22.12.0' })).machines.same).toBe(false);
    expect(compared(on({ cores: 8 })).machines.same).toBe(false);
    // the host name and pinning are not the machine's speed: still one machine
    expect(compared(on({ hostname: 'ci-runner-7', serverCpus: '1', loadCpus: '0' })).machines.same).toBe(true);
  });

  it('a side made on two machines is not one machine', () => {
    const b = repeats(ws, 'p50Us', [1000, 1020], 'b');
    expect(machinesOf(b, [...b.slice(0, 1), ...elsewhere(b.slice(1))])).toMatchObject({ same: false });
    expect(machinesOf([repeat(ws, {})], [repeat(ws, {})]).same).toBe(true);
  });

  it('console, Markdown and JUnit name both machines and say what is not gated', () => {
    const r = compared(elsewhere);
    const text = formatComparisonText(r);
    expect(text).toContain('machines: baseline made on AMD EPYC 7B13 ×2, Node v20.18.0; current on Intel(R) Xeon(R) Processor ×4, Node v20.18.0');
    expect(text).toContain('gate: the baseline was made on another machine, so the machine-dependent metrics (p50, p99, p999, cpu, connections, rss) are compared but not gated; bytes, requests, lost, undelivered, errors are gated on any machine');
    expect(text).toContain('not gated: other machine: p50 +24.9 %');
    expect(text).toContain('result: 1 regression, 1 beyond the threshold on a machine-dependent metric, not gated (baseline from another machine)');
    const md = formatComparisonMarkdown(r);
    expect(md).toContain('- gate: the baseline was made on another machine');
    expect(md).toMatch(/\| ws broadcast on loopback \| delivery latency p50 \| .* \| not gated: other machine \|/);
    const root = parseXml(formatJunit(r));
    expect(root.attrs).toMatchObject({ failures: '1', skipped: String(COMPARE_METRICS.filter((m) => m.machineDependent && m.defaultThreshold !== null).length) });
    // the suite's properties (each case has its own: verdict, test, runs, detectable, p)
    const props = findAll(findAll(root, 'testsuite')[0].children.find((c) => c.name === 'properties')!, 'property');
    expect(props.map((p) => p.attrs.name)).toEqual(['machines', 'gate']);
    expect(props[1].attrs.value).toMatch(/^the baseline was made on another machine/);
    expect(findAll(root, 'skipped').map((s) => s.attrs.message.split(' ')[0])).toContain('p50');
    expect(findAll(root, 'failure').map((f) => f.attrs.message.split(' ')[0])).toEqual(['lost']);
  });
});
