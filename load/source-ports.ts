/**
 * The source port of a client's first connection when the clients send from given local
 * addresses (`--source-ips`, or loopback's own spread).
 *
 * A socket bound to an address with port 0 has the kernel search that address's ephemeral range
 * for a port no other socket holds, under the range's locks, in the connecting thread's time; the
 * search grows with the ports already taken, to milliseconds per connect once most of the range
 * is, which saturates the generator's CPU during a ramp of tens of thousands of clients
 * (docs/scale-out.md). A port given outright costs one lookup. Client i sends from address i mod
 * n (load/worker-clients.ts), so the clients of one address are a, a + n, a + 2n, …; slot ⌊i / n⌋
 * gives each its own port of the range, whichever thread, process or shard on this machine runs
 * it. Past the range (more clients on one address than it has ports) the kernel chooses.
 *
 * Pure; no I/O.
 */
import type { PortRange } from './resources.ts';

/** The port client `id` binds on its first connection from one of `addresses` addresses; undefined: the kernel's choice. */
export function sourcePortOf(id: number, addresses: number, range: PortRange): number | undefined {
  if (addresses <= 0 || id < 0) return undefined;
  const slot = Math.floor(id / addresses);
  return slot <= range.last - range.first ? range.first + slot : undefined;
}
