/**
 * The driver registry: the one place a transport name becomes a client implementation.
 * A new transport is one file exporting a {@link Driver} and one line here.
 */
import type { TransportName } from '../../core/wire.ts';
import { longPollDriver } from './long-poll.ts';
import { shortPollDriver } from './short-poll.ts';
import { sseDriver } from './sse.ts';
import type { Driver } from './types.ts';
import { wsDriver } from './ws.ts';

export const DRIVERS: Readonly<Record<TransportName, Driver>> = Object.freeze({
  ws: wsDriver,
  sse: sseDriver,
  'long-poll': longPollDriver,
  'short-poll': shortPollDriver,
});

/** The driver for `name` (a {@link TransportName}, validated by the caller's option checks). */
export function driverFor(name: TransportName): Driver {
  return DRIVERS[name];
}
