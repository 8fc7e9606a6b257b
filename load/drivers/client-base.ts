/**
 * What every driver's client shares: its codec (what it asks for and how it reads the answers: the
 * contract, or a profile's dialect), its publishes, socket accounting, the reconnect loop and an
 * idempotent async `close()`. A transport file supplies only how to connect and shut its own
 * connection down.
 *
 * Threading: a client lives on one event loop; no method blocks or throws on the hot path.
 */
import { Reconnector } from './backoff.ts';
import type { Codec, Upstream } from './types.ts';
import { SocketCounter } from './sockets.ts';
import type { Client, ClientEvents, ClientSpec } from './types.ts';

/** Error code counted for a publish of a client that has no way to publish (no upstream, not in band). */
export const NO_UPSTREAM = 'NO_UPSTREAM';

export abstract class BaseClient implements Client {
  protected readonly sockets = new SocketCounter();
  protected readonly reconnector: Reconnector;
  /** Set once by `close()`; every callback checks it and goes quiet. */
  protected closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    protected readonly spec: ClientSpec,
    protected readonly events: ClientEvents,
    protected readonly codec: Codec,
    /** where chat publishes go; undefined: on the client's own connection ({@link publishInBand}) */
    private readonly upstream: Upstream | undefined,
  ) {
    this.reconnector = new Reconnector(events, spec.reconnectMinMs, spec.reconnectMaxMs, () => {
      if (!this.closed) this.reconnect();
    }, spec.reconnectJitter);
  }

  abstract start(): void;
  abstract get open(): boolean;

  /** Open the connection again, resuming where the codec stands (called after the backoff wait). */
  protected abstract reconnect(): void;
  /** Stop this transport's timers and connections; resolves once its sockets are closed. */
  protected abstract shutdown(): Promise<void>;

  /** Send one upstream message (chat): through the upstream, or in band where the transport can. */
  publish(data: string, ts: number): void {
    if (this.closed) return;
    if (this.upstream !== undefined) this.upstream.send(data, ts);
    else this.publishInBand(data, ts);
  }

  /** A publish on the client's own connection (a transport that can overrides this). */
  protected publishInBand(_data: string, _ts: number): void {
    this.events.error(NO_UPSTREAM);
  }

  /** The connection was lost or refused: count `code` and reconnect after backoff (quiet once closed). */
  protected fail(code: string): void {
    if (!this.closed) this.reconnector.fail(code);
  }

  bytes(): { read: number; written: number } {
    const b = this.sockets.addBytesTo({ read: 0, written: 0 });
    return this.upstream === undefined ? b : this.upstream.addBytesTo(b);
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    this.reconnector.stop();
    try {
      await Promise.all([this.shutdown(), this.upstream?.close()]);
    } finally {
      this.sockets.destroyAll();
    }
  }
}
