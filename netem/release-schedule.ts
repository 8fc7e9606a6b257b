/**
 * When the latency proxy's delayed chunks leave: every chunk of every connection and direction in
 * one schedule of whole-millisecond buckets, drained by ONE timer for the whole proxy.
 *
 * Why one timer: a broadcast hands the proxy one chunk per connection at the same instant; a timer
 * per chunk (or per connection) means hundreds of Timeout objects armed, listed and fired for what
 * is one event 25 ms later. Buckets keep the cost per chunk to an array push and an array read.
 *
 * Timing: libuv fires a timer on a whole millisecond M of CLOCK_MONOTONIC (the clock nowUs() reads),
 * and the callback runs a learned wake-up lateness W after it. A chunk due at `releaseUs` therefore
 * goes into the bucket M = round((releaseUs − W) / 1000), the firing nearest to its due time; the
 * timer is asked for the earliest bucket's M, and when it fires at `now` every bucket up to
 * round((now − W) / 1000) leaves. Each chunk leaves within about ±0.5 ms of its due time on a
 * quiet machine, never more than about 1 ms early.
 *
 * Order: a direction's chunks are due in non-decreasing time (the proxy makes them so) and each
 * goes in no bucket before its predecessor's (`add`'s `notBeforeKey`), in push order inside one
 * bucket: draining buckets in key order preserves every direction's byte order.
 *
 * Hold (the blackhole fault): nothing leaves before `hold.untilUs`; then everything due by then
 * leaves at once, in order.
 *
 * Threading: the caller's event loop; `release` is called synchronously from the timer.
 */
import { nowUs } from '../core/wire.ts';

const MIN_TIMER_MS = 1;

/** Keys are whole milliseconds on the nowUs clock. */
export class ReleaseSchedule<T> {
  private readonly buckets = new Map<number, T[]>();
  /** bucket keys, ascending, from `head` on (most pushes append: a constant delay is monotonic) */
  private keys: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerKeyMs = Infinity;
  /** how long after its millisecond boundary a timer callback runs, µs (moving average) */
  private wakeLatenessUs = 200;
  private closed = false;

  constructor(
    /** called once per item when it leaves, with the time the timer fired (µs) */
    private readonly release: (item: T, now: number) => void,
    private readonly hold: { untilUs: number } = { untilUs: 0 },
  ) {}

  /**
   * Schedule `item` to leave at `releaseUs` (µs on the nowUs clock), in no bucket before
   * `notBeforeKey`; returns the bucket's key. A caller whose items must keep their order passes
   * the key of its previous item: the learned wake-up lateness moves between two adds, so two
   * items due at the same time (the FIFO rule makes that common) could otherwise land in
   * buckets in the opposite order and leave reordered.
   */
  add(item: T, releaseUs: number, notBeforeKey = -Infinity): number {
    if (this.closed) return notBeforeKey;
    const key = Math.max(notBeforeKey, Math.round((releaseUs - this.wakeLatenessUs) / 1000));
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(key, bucket);
      this.insertKey(key);
    }
    bucket.push(item);
    if (this.timer === undefined || key < this.timerKeyMs) this.arm(nowUs());
    return key;
  }

  /** Items scheduled and not yet released. */
  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.length;
    return n;
  }

  /** The hold moved: re-arm the timer for it. */
  rearm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerKeyMs = Infinity;
    this.arm(nowUs());
  }

  /** Drop everything and stop the timer. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.buckets.clear();
    this.keys = [];
    this.head = 0;
  }

  private insertKey(key: number): void {
    const { keys } = this;
    if (keys.length === this.head || key > keys[keys.length - 1]) {
      keys.push(key);
      return;
    }
    let lo = this.head;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    keys.splice(lo, 0, key);
  }

  private arm(now: number): void {
    if (this.head >= this.keys.length || this.closed) return;
    const keyMs = Math.max(this.keys[this.head], Math.round((this.hold.untilUs - this.wakeLatenessUs) / 1000));
    if (this.timer !== undefined) {
      if (this.timerKeyMs <= keyMs) return;
      clearTimeout(this.timer);
    }
    // libuv fires a timer on the first whole millisecond of its clock at or after start + wait
    const nowMs = Math.floor(now / 1000);
    const waitMs = Math.max(MIN_TIMER_MS, keyMs - nowMs);
    const askedUs = (nowMs + waitMs) * 1000;
    this.timerKeyMs = keyMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerKeyMs = Infinity;
      const fired = nowUs();
      // learn how late timers fire on this machine (bounded, so one stall cannot poison it)
      const late = Math.min(2000, Math.max(-1000, fired - askedUs));
      this.wakeLatenessUs += (late - this.wakeLatenessUs) / 16;
      this.drain(fired);
      this.arm(nowUs());
    }, waitMs);
  }

  private drain(now: number): void {
    if (now + 500 < this.hold.untilUs) return;
    const lastKey = Math.round((now - this.wakeLatenessUs) / 1000);
    const { keys, buckets } = this;
    while (this.head < keys.length && keys[this.head] <= lastKey && !this.closed) {
      const key = keys[this.head++];
      const bucket = buckets.get(key)!;
      buckets.delete(key);
      for (let i = 0; i < bucket.length; i++) this.release(bucket[i], now);
    }
    if (this.head === keys.length) {
      keys.length = 0;
      this.head = 0;
    } else if (this.head > 256) {
      keys.splice(0, this.head);
      this.head = 0;
    }
  }
}
