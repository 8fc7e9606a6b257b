/**
 * The order of `rank`'s runs. Transports are interleaved by a balanced Latin square (Williams
 * design): over every 4 repeats each transport runs once in each position and follows every other
 * transport once, so drift on a shared machine (thermal, page cache, a noisy neighbour) spreads
 * evenly instead of favouring whoever runs first. The cells of a grid (network × rate × clients)
 * are interleaved the same way: each repeat visits every cell once, the cells in a Williams row of
 * their own, so a slow stretch of the machine falls on every cell alike rather than on one.
 */
export function williamsOrder(n: number): number[][] {
  // First row 0, 1, n-1, 2, n-2, …; row r adds r to every entry (mod n).
  const first: number[] = [0];
  for (let k = 1, lo = 1, hi = n - 1; k < n; k++) first.push(k % 2 === 1 ? lo++ : hi--);
  const rows = Array.from({ length: n }, (_, r) => first.map((x) => (x + r) % n));
  // For odd n the design needs the mirrored rows too to balance carry-over.
  return n % 2 === 1 ? [...rows, ...rows.map((row) => [...row].reverse())] : rows;
}

export interface PlannedRun<T, C> {
  cell: C;
  repeat: number;
  item: T;
}

/**
 * Every run of a rank, in execution order: repeat by repeat; within a repeat every cell once, in
 * that repeat's row of the cells' square; within a cell the items in its repeat's row of theirs.
 */
export function rankPlan<T, C>(items: readonly T[], repeats: number, cells: readonly C[]): PlannedRun<T, C>[] {
  const square = williamsOrder(items.length);
  const cellSquare = williamsOrder(cells.length);
  const plan: PlannedRun<T, C>[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const c of cellSquare[repeat % cellSquare.length]) {
      for (const i of square[repeat % square.length]) plan.push({ cell: cells[c], repeat, item: items[i] });
    }
  }
  return plan;
}
