/** SSE-driver specifics beyond the shared contract: the server's `retry:` sets the reconnect wait. */
import { describe, expect, it } from 'vitest';
import { driverFor } from '../../../load/drivers/index.ts';
import { nowUs } from '../../../core/wire.ts';
import { EventLog, serverWithProxy, waitFor } from './helpers.ts';

describe('sse driver', () => {
  const env = serverWithProxy({ ratePerS: 20, sseRetryMs: 400 });

  it("waits the server's retry: before reconnecting, not its own shorter minimum", async () => {
    const log = new EventLog();
    const spec = { id: 0, baseUrl: env.proxy.url, topic: 't0', pollIntervalMs: 0, pollOffsetMs: 0, longPollTimeoutMs: 1000, reconnectMinMs: 20, reconnectMaxMs: 5000 };
    const client = driverFor('sse').create(spec, log);
    client.start();
    await waitFor(() => log.messages.length >= 1, 'a message');
    const cutUs = nowUs();
    let reconnectedUs = 0;
    const connects = log.connects.length;
    env.proxy.cut();
    await waitFor(() => {
      if (log.connects.length > connects && reconnectedUs === 0) reconnectedUs = nowUs();
      return reconnectedUs > 0;
    }, 'reconnect');
    expect(reconnectedUs - cutUs).toBeGreaterThanOrEqual(400_000 * 0.8);
    expect(log.errors).toHaveLength(1); // one lost stream, one code (SSE_EOF or UND_ERR_SOCKET, by framing)
    await client.close();
  });
});
