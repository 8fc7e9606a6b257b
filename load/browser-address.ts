/**
 * `link=browser` (netem/network.ts): each simulated browser sends from a loopback address of its
 * own, from 127.1.0.0 up, and the latency proxy, which cannot read a relayed connection's headers
 * (TLS passes through it encrypted), puts the connections from one address on one shared link.
 *
 * A browser is `tabs` (`--streams-per-connection`) consecutive clients of one generator thread, as
 * sse-h2's browsers are formed (load/drivers/sse-h2.ts): thread slice {index, of} (load/slice.ts)
 * holds ids index, index + of, …; client `id` is at position p = (id − index) / of of its thread,
 * in its browser ⌊p / tabs⌋, numbered ⌊p / tabs⌋ × of + index over the run — distinct for every
 * thread, process and shard, as the slices are. With one tab a browser is one client.
 *
 * Pure; no I/O.
 */
import type { Slice } from './slice.ts';

/** 127.1.0.0: above 127.0.0.x, where the default spread of source addresses lives (load/run/machine.ts). */
const FIRST = ((127 << 24) | (1 << 16)) >>> 0;
/** 127.255.255.255 is loopback's broadcast address: the last browser address is one below it. */
const LAST = 0x7ffffffe;

/** The run-wide number of client `id`'s browser, run by the thread of `slice`. */
export function browserOf(id: number, slice: Slice, tabs: number): number {
  const position = Math.floor((id - slice.index) / slice.of);
  return Math.floor(position / Math.max(1, tabs)) * slice.of + slice.index;
}

/** The loopback address browser `n` sends from. Throws past 127.255.255.254 (16 million browsers). */
export function browserAddress(n: number): string {
  const a = FIRST + n;
  if (!Number.isInteger(n) || n < 0 || a > LAST) throw new RangeError(`browser ${n} has no loopback address (127.1.0.0 + n must stay below 127.255.255.255)`);
  return [24, 16, 8, 0].map((shift) => (a >>> shift) & 255).join('.');
}
