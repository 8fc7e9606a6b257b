/**
 * The order of `rank`'s runs. Transports are interleaved by a balanced Latin square (Williams
 * design): over every 4 repeats each transport runs once in each position and follows every other
 * transport once, so drift on a shared machine (thermal, page cache, a noisy neighbour) spreads
 * evenly instead of favouring whoever runs first.
 */
export function williamsOrder(n: number): number[][] {
  // First row 0, 1, n-1, 2, n-2, …; row r adds r to every entry (mod n).
  const first: number[] = [0];
  for (let k = 1, lo = 1, hi = n - 1; k < n; k++) first.push(k % 2 === 1 ? lo++ : hi--);
  const rows = Array.from({ length: n }, (_, r) => first.map((x) => (x + r) % n));
  // For odd n the design needs the mirrored rows too to balance carry-over.
  return n % 2 === 1 ? [...rows, ...rows.map((row) => [...row].reverse())] : rows;
}

export interface PlannedRun<T> {
  network: string;
  repeat: number;
  item: T;
}

/** Every run of a rank, in execution order: networks in turn, repeats in Williams order. */
export function rankPlan<T>(items: readonly T[], repeats: number, networks: readonly string[]): PlannedRun<T>[] {
  const square = williamsOrder(items.length);
  const plan: PlannedRun<T>[] = [];
  for (const network of networks) {
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const i of square[repeat % square.length]) plan.push({ network, repeat, item: items[i] });
    }
  }
  return plan;
}
