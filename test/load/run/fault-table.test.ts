/**
 * The fault table (load/run/fault-table.ts) with a stand-in environment: one action per kind, the
 * note each leaves in the fault log, and what is logged when a fault does not apply or fails.
 * Nothing is started; the one request goes to a closed port.
 */
import { describe, expect, it } from 'vitest';
import { nowUs } from '../../../core/wire.ts';
import { FAULT_KINDS, type FaultSpec } from '../../../load/faults.ts';
import { FAULT_ACTIONS, FaultInjector, type FaultContext } from '../../../load/run/fault-table.ts';
import { zeroStatsDelta } from '../../../load/run/server-stats.ts';

function context(env: { proxy?: boolean; serverUrl?: string }): { ctx: FaultContext; sent: number[] } {
  const sent: number[] = [];
  const stand = {
    serverUrl: env.serverUrl ?? 'http://127.0.0.1:1',
    canRestart: false,
    blackhole: (ms: number) => (env.proxy ? (sent.push(ms), true) : false),
  };
  return { ctx: { env: stand, sampler: {}, banked: { stats: zeroStatsDelta(), cpuUs: 0 }, epochEnded: () => {} } as unknown as FaultContext, sent };
}

/** Fire `faults` now and wait until each has logged a line. */
async function fire(faults: FaultSpec[], ctx: FaultContext): Promise<{ lines: string[]; injector: FaultInjector }> {
  const lines: string[] = [];
  const injector = new FaultInjector(faults, ctx, (l) => lines.push(l));
  injector.start(nowUs() - 10_000);
  const until = Date.now() + 5000;
  while (lines.length < faults.length && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  injector.stop();
  return { lines, injector };
}

const blackhole: FaultSpec = { kind: 'blackhole', atMs: 0, durationMs: 2000, text: 'blackhole@0s:2s' };

describe('the fault table', () => {
  it('has an action for every kind of fault', () => {
    expect(Object.keys(FAULT_ACTIONS).sort()).toEqual([...FAULT_KINDS].sort());
  });

  it('a blackhole goes to the proxy, and its note to the log', async () => {
    const { ctx, sent } = context({ proxy: true });
    const { lines, injector } = await fire([blackhole], ctx);
    expect(sent).toEqual([2000]);
    expect(injector.log).toEqual([{ index: 0, firedUs: expect.any(Number), note: 'proxy blackholed both ways for 2000 ms' }]);
    expect(lines).toEqual(['fault blackhole@0s:2s: proxy blackholed both ways for 2000 ms']);
  });

  it('a fault that does not apply (no proxy, no server of the run\'s own) leaves no note and says so', async () => {
    const restart: FaultSpec = { kind: 'restart-server', atMs: 0, text: 'restart-server@0s' };
    const { lines, injector } = await fire([blackhole, restart], context({}).ctx);
    expect(injector.log).toEqual([]);
    expect(lines.sort()).toEqual(['fault blackhole@0s:2s: not applicable', 'fault restart-server@0s: not applicable']);
  });

  it('an injection that fails is noted with its error', async () => {
    const cut: FaultSpec = { kind: 'cut-connections', atMs: 0, fraction: 0.5, text: 'cut-connections@0s:50%' };
    const { lines, injector } = await fire([cut], context({ serverUrl: 'http://127.0.0.1:1' }).ctx);
    expect(injector.log).toEqual([{ index: 0, firedUs: expect.any(Number), note: expect.stringMatching(/^injection failed: /) }]);
    expect(lines[0]).toMatch(/^fault cut-connections@0s:50%: injection failed: /);
  });
});
