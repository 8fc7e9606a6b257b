/**
 * A Socket.IO target (docs/socketio.md): each of socketio-ws, socketio-polling and
 * socketio-upgrade against the reference Socket.IO server (the socket.io package), through the
 * run's real path — the publisher posting tokens to the server's hook, the clients speaking
 * Engine.IO / Socket.IO over real sockets, on a namespace and event of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../../load/runner.ts';
import { startSocketioServer, type SocketioServer } from '../../../servers/socketio/server.ts';
import { TARGET_ONLY_TRANSPORTS, TRANSPORTS } from '../../../load/drivers/index.ts';
import { expectCleanRun, runSettings } from '../settings.ts';

const CLIENTS = 20;
const RATE = 10;
/** Engine.IO ping period of the test server: short, so a 1.5 s run holds several heartbeats */
const PING_MS = 300;

let server: SocketioServer;

beforeAll(async () => {
  server = await startSocketioServer({ namespace: '/chat', event: 'news', pingIntervalMs: PING_MS });
});
afterAll(async () => {
  await server?.close();
});

describe('Socket.IO target', () => {
  it('registers its transports apart from the reference ones', () => {
    expect(TARGET_ONLY_TRANSPORTS).toEqual(['socketio-ws', 'socketio-polling', 'socketio-upgrade']);
    for (const t of TARGET_ONLY_TRANSPORTS) expect(TRANSPORTS).not.toContain(t);
  });

  it.each(TARGET_ONLY_TRANSPORTS)('%s: every message delivered, heartbeats answered, measured per message', async (transport) => {
    const s = runSettings(transport, [
      '--target', server.url, '--socketio', '--namespace', '/chat', '--event', 'news',
      '--clients', String(CLIENTS), '--rate', String(RATE), '--duration', '1.5s', '--warmup', '0.5s',
    ]);
    const r = await runOnce(s);
    expectCleanRun(r, 1, RATE, CLIENTS);
    expect(r.summary.undelivered).toBe(0);
    const f = r.socketio!;
    expect(f).toMatchObject({ namespace: '/chat', event: 'news', recovered: 0, notRecovered: 0, lossByClient: { clients: 0, lost: [] } });
    // one session per client: nothing dropped a connection
    expect(f.sessions).toBe(CLIENTS);
    // heartbeats count over the whole run: each client opens its session in the warm-up's first
    // 20 ms (20 at 1,000/s) and stays to the window's end, ≥ 1.45 s, answering a ping every 300 ms
    // from its open: ≥ 4 each
    expect(f.heartbeats).toBeGreaterThanOrEqual(CLIENTS * 4);
    // bytes per message: at least the 64 B token, framed
    expect(r.summary.bytesPerMessage).toBeGreaterThan(64);
    if (transport === 'socketio-upgrade') {
      expect(f.upgrades).toBe(CLIENTS);
      expect(f.upgradeShare).toBe(1);
      expect(f.upgradeFailures).toBe(0);
      // every upgrade is timed from its session's open (a probe round trip at least)
      expect(f.upgradeMs!.p50).toBeGreaterThan(0);
    } else {
      expect(f.upgrades).toBe(0);
      expect(f.upgradeShare).toBe(0);
      expect(f.upgradeMs).toBeNull();
    }
    // long polling only: each message is answered by a poll (≤ 1 request per message, as a poll may carry several), plus pongs' POSTs
    if (transport === 'socketio-polling') expect(r.summary.requestsPerMessage).toBeGreaterThan(0.5);
    else if (transport === 'socketio-ws') expect(r.summary.requestsPerMessage).toBe(0);
  }, 20_000);
});
