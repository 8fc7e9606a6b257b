/**
 * Chat publishes to the reference server from a client of an HTTP transport: `POST
 * /publish?topic=T` with `{"data","ts"}` on a keep-alive connection of the client's own, opened at
 * the first publish. Reports `request(planned = min(ts, sent), sent, done, false)` on a 2xx and
 * `error(HTTP_<status> | code)` otherwise; its bytes count with the client's. Never throws.
 */
import type { Client as UndiciClient } from 'undici';
import { codeOf } from '../../core/errors.ts';
import { nowUs } from '../../core/wire.ts';
import { httpStatusCode } from './codec.ts';
import { Exchange, openHttpConnection } from './http.ts';
import { SocketCounter, type ByteCounts } from './sockets.ts';
import type { ClientEvents, ClientSpec, Upstream } from './types.ts';

export class ContractUpstream implements Upstream {
  private readonly sockets = new SocketCounter();
  private http: UndiciClient | undefined;
  private readonly path: string;
  private closed = false;

  constructor(
    private readonly spec: ClientSpec,
    private readonly events: ClientEvents,
  ) {
    this.path = `/publish?topic=${encodeURIComponent(spec.topic)}`;
  }

  send(data: string, ts: number): void {
    if (this.closed) return;
    this.http ??= openHttpConnection(this.spec, this.sockets, {
      headersTimeoutMs: 30_000,
      bodyTimeoutMs: 30_000,
      onConnected: (connectUs) => this.events.connected(connectUs),
      events: this.events,
    });
    const sentUs = nowUs();
    const plannedUs = ts < sentUs ? ts : sentUs;
    const body = `{"data":${JSON.stringify(data)},"ts":${Math.round(ts)}}`;
    const exchange = new Exchange(this.http, (err, status) => {
      if (this.closed) return;
      if (err !== null) this.events.error(codeOf(err));
      else if (status < 200 || status > 299) this.events.error(httpStatusCode(status));
      else this.events.request(plannedUs, sentUs, nowUs(), false);
    });
    exchange.send('POST', this.path, body, { 'content-type': 'application/json' });
  }

  addBytesTo(into: ByteCounts): ByteCounts {
    return this.sockets.addBytesTo(into);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.http?.destroy();
    } finally {
      this.sockets.destroyAll();
    }
  }
}
