/**
 * The server-side transport contract. Each transport is one file exporting a
 * {@link ServerTransport} descriptor; servers/transports/index.ts registers them and the router
 * dispatches by path, so no other server code names a transport.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Hub } from '../hub.ts';
import type { RequestContext } from '../http.ts';
import type { SendBudget } from '../limits.ts';
import type { ServerOptions } from '../options.ts';
import type { ServerStats } from '../stats.ts';
import type { TransportName } from '../../core/wire.ts';

export interface TransportDeps {
  hub: Hub;
  stats: ServerStats;
  budget: SendBudget;
  options: Readonly<ServerOptions>;
}

export interface TransportHandler {
  /**
   * Serve one GET request. May throw an HttpError before writing anything (the router answers
   * it); must not throw after.
   */
  handle(ctx: RequestContext): void;
  /** Serve an upgrade request (only transports that take upgrades); same error rule as handle. */
  upgrade?(req: IncomingMessage, socket: Socket, head: Buffer, query: URLSearchParams): void;
  /** End every open stream / held request (WebSocket 1001, SSE end, long polls answered). Idempotent. */
  close(): Promise<void>;
}

export type TransportFactory = (deps: TransportDeps) => TransportHandler;

/** A transport of the reference server: its wire name, the path it serves, its handler's factory. */
export interface ServerTransport {
  readonly name: TransportName;
  /** request path it serves, e.g. `/sse` (resume and topic parameters follow core/wire.ts) */
  readonly path: string;
  readonly create: TransportFactory;
}
