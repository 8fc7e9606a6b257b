/**
 * One ws run through the built-in reference profile, held to what the native path gives on the
 * same reference server: valid, nothing lost, every message of the window, and a coarse bound on
 * the latency the profile adds (`npm run bench:profile` measures the ratio, every transport).
 *
 * Runs alone: a profiled run's p50 within 5 ms of the native run's.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../../../load/runner.ts';
import { runSettings } from '../settings.ts';

const CLIENTS = 20;
/**
 * 1 measured second; every client connected within the warm-up (20 at 1,000/s). Each run's p50 is
 * the median of 200 deliveries (10 to each client): a publish path that queued or batched, holding
 * each message up to a message period (100 ms), moves it far past the 5 ms bound below.
 */
const MEASURED_S = 1;
const ARGS = ['--clients', String(CLIENTS), '--topics', '2', '--rate', '10', '--duration', '1500ms', '--warmup', '500ms'];

describe('--profile builtin:reference against the native path (ws)', () => {
  it('both valid, 0 lost, the same messages; the profile adds no more than a loopback publish to the latency', async () => {
    const native = await runOnce(runSettings('ws', ARGS, 'ws-native'));
    const profiled = await runOnce(runSettings('ws', [...ARGS, '--profile', 'builtin:reference'], 'ws-profile'));
    for (const r of [native, profiled]) {
      expect(r.invalidReasons.join('; ')).toBe('');
      expect(r.summary.lost).toBe(0);
      expect(r.summary.duplicates).toBe(0);
    }
    expect(native.config.profile).toBeUndefined();
    expect(profiled.config.profile).toBe('reference');
    // the measured seconds at 10 msg/s to 20 clients (10 on each topic), ± one message per client
    // at each edge of the window
    expect(profiled.summary.delivered).toBeGreaterThanOrEqual(MEASURED_S * 10 * CLIENTS - 2 * CLIENTS);
    expect(profiled.summary.delivered).toBeLessThanOrEqual(MEASURED_S * 10 * CLIENTS + 2 * CLIENTS);
    expect(profiled.publisher).toMatchObject({ failed: 0 });
    // the reference server reports its own figures on the profile path too
    expect(profiled.summary.serverCpuUsPerMessage).toBeGreaterThan(0);
    expect(profiled.server?.httpRequests).toBeGreaterThan(0);
    // Coarse on purpose: the same server and sockets; the profile path adds one loopback POST per
    // message before the same fan-out (well under a millisecond) and a regex per delivery. A
    // profile path that queued or batched publishes would add a message period (100 ms) or more;
    // 5 ms above the native median is far inside that.
    expect(profiled.summary.latencyUs.p50).toBeLessThanOrEqual(native.summary.latencyUs.p50 + 5000);
  }, 20_000);
});
