/**
 * A heartbeat spread over its period. Each connection gets one beat every `periodMs`, at a phase
 * of its own (one of `slices`), so N connections cost N / slices beats per tick instead of N in
 * the same instant: 20,000 pings at once (and 20,000 pongs back) stall both ends for about a
 * second, which a capacity run sees as a latency spike every period.
 *
 * Threading: one event loop; `beat` must not throw. `close()` is idempotent.
 */
export class SpreadHeartbeat<T> {
  private readonly slices: Set<T>[];
  private readonly slotOf = new Map<T, Set<T>>();
  private nextSlot = 0;
  private turn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(periodMs: number, beat: (item: T) => void, slices = 16) {
    this.slices = Array.from({ length: slices }, () => new Set<T>());
    this.timer = setInterval(() => {
      for (const item of this.slices[this.turn]) beat(item);
      this.turn = (this.turn + 1) % slices;
    }, Math.max(1, periodMs / slices));
  }

  /** Beat `item` from now on, once per period. */
  add(item: T): void {
    const slot = this.slices[this.nextSlot++ % this.slices.length];
    slot.add(item);
    this.slotOf.set(item, slot);
  }

  delete(item: T): void {
    this.slotOf.get(item)?.delete(item);
    this.slotOf.delete(item);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
