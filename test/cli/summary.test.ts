/**
 * The console summary table (cli/summary.ts): undelivered beside lost, "–" where it was not
 * measured, and a run's reasons and notes under the table.
 */
import { describe, expect, it } from 'vitest';
import { formatSummaryTable } from '../../cli/summary.ts';
import { summarize, type ResultRecord } from '../../core/record.ts';
import { buildRecord } from '../fixtures/records.ts';

describe('formatSummaryTable', () => {
  it('shows undelivered next to lost, "–" when unmeasured, and says why a run is invalid', () => {
    const base = buildRecord({ transport: 'short-poll', name: 'behind' });
    const counters = { ...base.counters, undelivered: 37, expected: base.counters.expected + 37 };
    const reason = '37 of … expected messages had not arrived by the end of the drain';
    const draft = { ...base, counters, backlogAgeMs: 1420, valid: false, invalidReasons: [reason] };
    const behind: ResultRecord = { ...draft, summary: summarize(draft) };
    const old = buildRecord({ transport: 'ws', name: 'old' });
    const unmeasured: ResultRecord = { ...old, summary: { ...old.summary, undelivered: null } };
    const lines = formatSummaryTable([behind, unmeasured]).split('\n');
    const cells = (line: string) => line.trim().split(/\s{2,}/);
    const head = cells(lines[0]);
    const at = head.indexOf('undeliv');
    expect(head[at - 1]).toBe('lost');
    expect(cells(lines[2])[at]).toBe('37');
    expect(cells(lines[2]).at(-1)).toBe('NO');
    expect(cells(lines[3])[at]).toBe('–');
    expect(lines).toContain(`INVALID behind: ${reason}`);
  });
});
