/**
 * What every driver's client shares: the resume cursor, socket accounting, the reconnect loop
 * and an idempotent async `close()`. A transport file supplies only how to connect, publish and
 * shut its own connection down.
 *
 * Threading: a client lives on one event loop; no method blocks or throws on the hot path.
 */
import { Cursor } from './cursor.ts';
import { Reconnector } from './backoff.ts';
import { SocketCounter } from './sockets.ts';
import type { Client, ClientEvents, ClientSpec } from './types.ts';

export abstract class BaseClient implements Client {
  protected readonly sockets = new SocketCounter();
  protected readonly cursor: Cursor;
  protected readonly reconnector: Reconnector;
  /** Set once by `close()`; every callback checks it and goes quiet. */
  protected closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    protected readonly spec: ClientSpec,
    protected readonly events: ClientEvents,
  ) {
    this.cursor = new Cursor(events);
    this.reconnector = new Reconnector(events, spec.reconnectMinMs, spec.reconnectMaxMs, () => {
      if (!this.closed) this.reconnect();
    });
  }

  abstract start(): void;
  abstract publish(data: string, ts: number): void;
  abstract get open(): boolean;

  /** Open the connection again, resuming from {@link cursor} (called after the backoff wait). */
  protected abstract reconnect(): void;
  /** Stop this transport's timers and connections; resolves once its sockets are closed. */
  protected abstract shutdown(): Promise<void>;

  /** The connection was lost or refused: count `code` and reconnect after backoff (quiet once closed). */
  protected fail(code: string): void {
    if (!this.closed) this.reconnector.fail(code);
  }

  bytes(): { read: number; written: number } {
    return this.sockets.addBytesTo({ read: 0, written: 0 });
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    this.reconnector.stop();
    try {
      await this.shutdown();
    } finally {
      this.sockets.destroyAll();
    }
  }
}
