/**
 * The transport registry (client side): the one place a transport name becomes a descriptor —
 * its client implementation and everything else pushbench asks about it. A new transport is one
 * file exporting a {@link Driver} and one line here (and its server side in
 * servers/transports/index.ts).
 */
import type { TransportName } from '../../core/wire.ts';
import type { WorkloadName } from '../../core/record.ts';
import { httpStreamDriver } from './http-stream.ts';
import { longPollDriver } from './long-poll.ts';
import { shortPollDriver } from './short-poll.ts';
import { SOCKETIO_DRIVERS } from './socketio/index.ts';
import { sseDriver } from './sse.ts';
import { sseH2Driver } from './sse-h2.ts';
import type { Driver, TransportTraits } from './types.ts';
import { wsDriver } from './ws.ts';

const REGISTERED: readonly Driver[] = [
  wsDriver,
  sseDriver,
  longPollDriver,
  shortPollDriver,
  httpStreamDriver,
  sseH2Driver,
];

export const DRIVERS: Readonly<Record<TransportName, Driver>> = Object.freeze(Object.fromEntries(REGISTERED.map((d) => [d.transport, d])));

/**
 * Transports that run only against a server of their own kind (Socket.IO's, `--socketio`):
 * driverFor, traitsOf and colourOf know them; DRIVERS and TRANSPORTS do not (the reference
 * server, rank's defaults, profiles and the registry-wide test suites iterate those).
 */
const TARGET_ONLY: readonly Driver[] = SOCKETIO_DRIVERS;
const KNOWN: Readonly<Record<TransportName, Driver>> = Object.freeze({ ...DRIVERS, ...Object.fromEntries(TARGET_ONLY.map((d) => [d.transport, d])) });

/** The target-only transports (not in {@link TRANSPORTS}), in registry order. */
export const TARGET_ONLY_TRANSPORTS: readonly TransportName[] = Object.freeze(TARGET_ONLY.map((d) => d.transport));

/** Every transport, in registry order (the order of tables, legends and option choices). */
export const TRANSPORTS: readonly TransportName[] = Object.freeze(REGISTERED.map((d) => d.transport));

/** The claimed ranking, best first: WebSocket > SSE > long polling > short polling. */
export const CLAIMED_ORDER: readonly TransportName[] = Object.freeze(
  REGISTERED.filter((d) => d.claimRank !== undefined).sort((a, b) => a.claimRank! - b.claimRank!).map((d) => d.transport),
);

/** Whether `name` is a registered transport. */
export function isTransport(name: string): boolean {
  return Object.hasOwn(DRIVERS, name);
}

/** The driver for `name` (a registered transport, validated by the caller's option checks). */
export function driverFor(name: TransportName): Driver {
  const d = KNOWN[name];
  if (d === undefined) throw new Error(`no transport named "${name}" (known: ${TRANSPORTS.join(', ')})`);
  return d;
}

/** The traits of `name`. */
export function traitsOf(name: TransportName): TransportTraits {
  return driverFor(name).traits;
}

/** The colour of `name` in every chart (grey for a name this version does not know, e.g. an old record's). */
export function colourOf(name: TransportName): string {
  return KNOWN[name]?.colour ?? '#9d9d9d';
}

/**
 * Sockets one client holds: chat over a transport that cannot publish in band opens a second
 * connection for its publishes, and so does every profile client (a profile describes publishing
 * as an HTTP request of its own).
 */
export function socketsPerClient(name: TransportName, workload: WorkloadName, profile: boolean): number {
  return workload === 'chat' && (!traitsOf(name).publishesInBand || profile) ? 2 : 1;
}
