/**
 * A quarter of a Socket.IO target's connections cut mid-window (`cut-connections`, the reference
 * Socket.IO server's /admin/cut): with the server's connection-state recovery on, every cut
 * client comes back with its pid and offset, is recovered and loses nothing; with it off, each
 * cut client comes back as a new session and the loss is reported per client.
 *
 * Heavy: Socket.IO's parser and recovery in the server and the generator, polling included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../../load/runner.ts';
import { startSocketioServer, type SocketioServer } from '../../../servers/socketio/server.ts';
import { runSettings } from '../settings.ts';

const CLIENTS = 20;
/** 25 % of 20: the server cuts exactly round(20 × 0.25) sessions */
const CUT = 5;
/**
 * 20 msg/s, one every 50 ms: a cut client is away at least the first reconnect wait (100 ms −20 %
 * jitter, load/drivers/backoff.ts), so without recovery each cut client misses at least one.
 */
const RATE = 20;

let recovering: SocketioServer;
let forgetting: SocketioServer;

beforeAll(async () => {
  [recovering, forgetting] = await Promise.all([startSocketioServer({ recoveryMs: 10_000 }), startSocketioServer({ recoveryMs: 0 })]);
});
afterAll(async () => {
  await Promise.all([recovering?.close(), forgetting?.close()]);
});

/**
 * The cut 0.2 s into the window, each client connected within the warm-up and holding a recovery
 * offset (a message every 50 ms); the 0.8 s after it cover a cut client's reconnect wait (≤ 120 ms)
 * and handshake, and the window's later messages show what it missed.
 */
function settings(transport: string, url: string) {
  return runSettings(transport, [
    '--target', url, '--socketio', '--clients', String(CLIENTS), '--rate', String(RATE),
    '--duration', '1.5s', '--warmup', '0.5s', '--fault', 'cut-connections@0.7s:25%',
  ]);
}

describe('Socket.IO: a 25 % cut', () => {
  it.each(['socketio-ws', 'socketio-polling'])('%s with recovery on loses nothing', async (transport) => {
    const r = await runOnce(settings(transport, recovering.url));
    expect(r.invalidReasons).toEqual([]);
    expect(r.faults![0].injected).toBe(`cut ${CUT} connections`);
    // what the cut clients met (recovered or not, how each connection ended), should one lose
    const seen = JSON.stringify({ recovered: r.socketio?.recovered, notRecovered: r.socketio?.notRecovered, errors: r.counters.errors, lossByClient: r.socketio?.lossByClient });
    expect(r.summary.lost, seen).toBe(0);
    expect(r.summary.undelivered).toBe(0);
    expect(r.summary.duplicates).toBe(0);
    expect(r.socketio).toMatchObject({ recovered: CUT, notRecovered: 0, sessions: CLIENTS + CUT, lossByClient: { clients: 0 } });
  }, 20_000);

  it.each(['socketio-ws', 'socketio-polling'])('%s with recovery off reports the loss per client', async (transport) => {
    const r = await runOnce(settings(transport, forgetting.url));
    expect(r.socketio).toMatchObject({ recovered: 0, notRecovered: CUT, sessions: CLIENTS + CUT });
    const { clients, lost } = r.socketio!.lossByClient;
    expect(clients).toBe(CUT);
    expect(lost.reduce((a, b) => a + b, 0)).toBe(r.summary.lost);
    expect(Math.min(...lost)).toBeGreaterThanOrEqual(1);
  }, 20_000);
});
