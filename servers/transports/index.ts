/**
 * The transport registry: wire name → server-side handler factory. Adding a transport is one file
 * and one line here.
 */
import type { TransportName } from '../../core/wire.ts';
import { createLongPoll } from './long-poll.ts';
import { createShortPoll } from './short-poll.ts';
import { createSse } from './sse.ts';
import type { TransportFactory } from './types.ts';
import { createWebSocket } from './websocket.ts';

export type { TransportDeps, TransportFactory, TransportHandler } from './types.ts';

export const TRANSPORT_FACTORIES: Readonly<Record<TransportName, TransportFactory>> = Object.freeze({
  ws: createWebSocket,
  sse: createSse,
  'long-poll': createLongPoll,
  'short-poll': createShortPoll,
});

/** The transports the reference server serves, in registry order. */
export const SERVER_TRANSPORTS: readonly TransportName[] = Object.freeze(Object.keys(TRANSPORT_FACTORIES));
