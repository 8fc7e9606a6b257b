/**
 * The transport registry (server side): the transports the reference server serves. Adding a
 * transport is one file exporting a {@link ServerTransport} and one line here (and its client side
 * in load/drivers/index.ts).
 */
import type { TransportName } from '../../core/wire.ts';
import { httpStreamTransport } from './http-stream.ts';
import { longPollTransport } from './long-poll.ts';
import { shortPollTransport } from './short-poll.ts';
import { sseTransport } from './sse.ts';
import { sseH2Transport } from './sse-h2.ts';
import type { ServerTransport } from './types.ts';
import { webSocketTransport } from './websocket.ts';

export type { ServerTransport, TransportDeps, TransportFactory, TransportHandler } from './types.ts';

export const SERVER_TRANSPORT_LIST: readonly ServerTransport[] = Object.freeze([
  webSocketTransport,
  sseTransport,
  longPollTransport,
  shortPollTransport,
  httpStreamTransport,
  sseH2Transport,
]);

/** The transports the reference server serves, in registry order. */
export const SERVER_TRANSPORTS: readonly TransportName[] = Object.freeze(SERVER_TRANSPORT_LIST.map((t) => t.name));
