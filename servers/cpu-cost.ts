/**
 * An injected CPU regression, for calibrating the regression gate (`serve --cpu-cost 30%`,
 * `run|rank --server-cpu-cost 30%`; bench/gate.ts): at each scheduled publish the server spins
 * `share` × the CPU its process used since the previous publish (not counting the spins), so its
 * CPU over any stretch of publishes is (1 + share) × what the work took — server CPU per message
 * up by exactly that share, on every transport and every machine, whatever the work costs there.
 * A fixed number of µs per message would be +30 % on one transport and +5 % on another.
 *
 * The spin runs on the event loop right after the publish and its fan-out, where a slower hot path
 * would spend it: writes already queued go out, requests arriving meanwhile wait, as they would.
 * It reads the process's CPU clock (getrusage, user + system) until the owed CPU is spent, so
 * time the process is not on a CPU does not count as spent.
 */

/** The process's CPU time so far (all threads), µs. */
function processCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export class CpuCost {
  /** the process's CPU at the end of the previous spend */
  private lastUs = processCpuUs();

  constructor(private readonly share: number) {}

  /** Spin `share` × the CPU used since the previous call (or since construction). */
  spend(): void {
    const start = processCpuUs();
    const owedUs = (start - this.lastUs) * this.share;
    let now = start;
    while (now - start < owedUs) now = processCpuUs();
    this.lastUs = now;
  }
}
