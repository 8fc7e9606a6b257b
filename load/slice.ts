/**
 * Which clients a part of a run takes: the one slicing rule behind a machine shard (dist/), a
 * generator process (load/multi.ts) and a worker thread (load/run/workers.ts), nested. Slice
 * `index` of `of` takes the client ids ≡ index (mod of); client id k arrives at t0 + k / arrival
 * rate whichever part runs it, so every part follows the run's one arrival schedule and the
 * parts' windows coincide. A slice of a slice is a slice ({@link nestSlice}), so shards × processes
 * × threads need no second rule. Pure: no clock, no I/O.
 */

/** Part `index` (0-based) of `of` equal parts of a run's clients. */
export interface Slice {
  index: number;
  of: number;
}

/** The whole run, as one slice. */
export const WHOLE_RUN: Slice = Object.freeze({ index: 0, of: 1 });

/** Part `inner` of part `outer`: the ids ≡ outer.index + outer.of × inner.index (mod outer.of × inner.of). */
export function nestSlice(outer: Slice, inner: Slice): Slice {
  return { index: outer.index + outer.of * inner.index, of: outer.of * inner.of };
}

/** How many of `clients` (ids 0 … clients − 1) slice `s` takes. */
export function sliceCount(clients: number, s: Slice): number {
  return s.index < clients ? Math.floor((clients - 1 - s.index) / s.of) + 1 : 0;
}

/** The ids of `clients` that slice `s` takes, ascending. */
export function sliceIds(clients: number, s: Slice): number[] {
  const ids: number[] = [];
  for (let id = s.index; id < clients; id += s.of) ids.push(id);
  return ids;
}

/**
 * When slice `s`'s first and last clients arrive, µs after t0, at `arrivalRatePerS` clients a
 * second over the whole run (null: the slice takes no client).
 */
export function sliceArrivalsUs(clients: number, s: Slice, arrivalRatePerS: number): { firstUs: number; lastUs: number } | null {
  const n = sliceCount(clients, s);
  if (n === 0) return null;
  const last = s.index + (n - 1) * s.of;
  return { firstUs: (s.index / arrivalRatePerS) * 1e6, lastUs: (last / arrivalRatePerS) * 1e6 };
}
