/**
 * A profile client's own publishes (the chat workload): each goes out as the profile's `publish`
 * request (method, URL, headers, body with `{payload}`) on a keep-alive connection of the
 * client's own, opened at the first publish. The payload is pushbench's token naming this client
 * as its source, with this client's own seq (token.ts explains why chat cannot use a per-topic
 * seq). Requests go one at a time on the connection, so the target receives them in seq order.
 *
 * Reports as the native HTTP publish does: `request(planned = min(ts, sent), sent, done, false)`
 * on a 2xx, `error(HTTP_<status> | code)` otherwise (a message the target refused then shows as
 * lost at every receiver too: its seq was spent). Bytes are counted on its own sockets.
 * Hot path: never throws.
 */
import type { Client as UndiciClient } from 'undici';
import { nowUs } from '../../core/wire.ts';
import { codeOf } from '../../core/errors.ts';
import { Exchange, httpStatusCode, openHttpConnection } from '../drivers/http.ts';
import { SocketCounter, type ByteCounts } from '../drivers/sockets.ts';
import type { ClientEvents, ClientSpec, Upstream } from '../drivers/types.ts';
import { expand, type PublishProfile } from './profile.ts';
import { encodeToken } from './token.ts';

export class ProfileUpstream implements Upstream {
  private readonly sockets = new SocketCounter();
  private http: UndiciClient | undefined;
  private readonly path: string;
  private seq = 0;
  private closed = false;

  constructor(
    private readonly spec: ClientSpec,
    private readonly events: ClientEvents,
    private readonly publish: PublishProfile,
    /** the run id its tokens carry (token.ts) */
    private readonly run: string,
  ) {
    this.path = expand(publish.url, { topic: spec.topic }, true);
  }

  /** Publish the next message of this client, scheduled at `ts`: a token padded to the length of `data`. */
  send(data: string, ts: number): void {
    if (this.closed) return;
    this.http ??= openHttpConnection(this.spec, this.sockets, { headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 });
    const sentUs = nowUs();
    const plannedUs = ts < sentUs ? ts : sentUs;
    const token = encodeToken(this.run, ++this.seq, ts, this.spec.topic, data.length, this.spec.id);
    const body = expand(this.publish.body, { payload: token, topic: this.spec.topic });
    const exchange = new Exchange(this.http, (err, status) => {
      if (this.closed) return;
      if (err !== null) this.events.error(codeOf(err));
      else if (status < 200 || status > 299) this.events.error(httpStatusCode(status));
      else this.events.request(plannedUs, sentUs, nowUs(), false);
    });
    exchange.send(this.publish.method, this.path, body, this.publish.headers);
  }

  addBytesTo(into: ByteCounts): ByteCounts {
    return this.sockets.addBytesTo(into);
  }

  /** Drop the connection (publishes in flight are abandoned). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.http?.destroy();
    this.sockets.destroyAll();
  }
}
