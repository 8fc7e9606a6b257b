/**
 * Reading slowly on purpose (slow consumers, `run --slow-clients`): a token bucket over bytes
 * read. A driver asks {@link ReadThrottle.take} after each chunk and pauses its socket for the
 * returned time, so the average read rate stays at `bytesPerS` and TCP backpressure reaches the
 * server exactly as a slow phone on a bad network would produce it.
 */
export class ReadThrottle {
  private availableBytes: number;
  private lastMs: number;

  /** `burstBytes`: how much may be read at once after a quiet spell (default: 100 ms worth, at least 1 KiB). */
  constructor(
    private readonly bytesPerS: number,
    private readonly burstBytes = Math.max(1024, bytesPerS / 10),
  ) {
    this.availableBytes = burstBytes;
    this.lastMs = performance.now();
  }

  /** Account for `bytes` just read; returns how long to pause reading, ms (0: keep reading). */
  take(bytes: number): number {
    const now = performance.now();
    this.availableBytes = Math.min(this.burstBytes, this.availableBytes + ((now - this.lastMs) / 1000) * this.bytesPerS);
    this.lastMs = now;
    this.availableBytes -= bytes;
    return this.availableBytes >= 0 ? 0 : Math.ceil((-this.availableBytes / this.bytesPerS) * 1000);
  }
}
