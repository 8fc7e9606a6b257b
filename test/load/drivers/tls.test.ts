/**
 * The client side of TLS (load/drivers/tls.ts): a thread's clients share one secure context per
 * CA, and sharing it neither skips the server's verification nor mixes the clients' sessions.
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTlsMaterial, type TlsMaterial } from '../../../core/tls.ts';
import { SocketCounter } from '../../../load/drivers/sockets.ts';
import { TlsDialer, contextFor } from '../../../load/drivers/tls.ts';
import type { ClientEvents, TlsHandshake } from '../../../load/drivers/types.ts';

let material: TlsMaterial;
let other: TlsMaterial;
let server: tls.Server;
let port = 0;

beforeAll(async () => {
  [material, other] = await Promise.all([makeTlsMaterial(), makeTlsMaterial()]);
  // Answers each connection with a byte and ends it: the client reads past the handshake, so the
  // TLS 1.3 tickets (sent after it) reach the client before the close.
  server = tls.createServer({ key: material.key, cert: material.cert, ticketKeys: material.ticketKeys }, (s) => {
    s.on('error', () => undefined);
    s.end('x');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** One connection of `dialer` to the server, to its close: its handshake, or the error that ended it. */
function dial(dialer: TlsDialer, heard: TlsHandshake[]): Promise<{ handshake?: TlsHandshake; error?: string }> {
  return new Promise((resolve) => {
    const before = heard.length;
    const socket = dialer.connect(new SocketCounter(), { host: '127.0.0.1', port, alpn: ['http/1.1'] });
    let error: string | undefined;
    socket.on('data', () => undefined);
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ handshake: heard[before], error }));
  });
}

function dialerFor(ca: string, heard: TlsHandshake[]): TlsDialer {
  return new TlsDialer({ ca }, { tls: (h: TlsHandshake) => heard.push(h) } as unknown as ClientEvents);
}

describe('TlsDialer', () => {
  it('one secure context per CA on a thread', () => {
    expect(contextFor({ ca: material.ca })).toBe(contextFor({ ca: material.ca }));
    expect(contextFor({ ca: other.ca })).not.toBe(contextFor({ ca: material.ca }));
    expect(contextFor({})).toBe(contextFor({}));
  });

  it('a client resumes its own session; another client of the same context starts with a full handshake', async () => {
    const heard: TlsHandshake[] = [];
    const a = dialerFor(material.ca, heard);
    const first = await dial(a, heard);
    const second = await dial(a, heard);
    const b = await dial(dialerFor(material.ca, heard), heard);
    expect(first.error).toBeUndefined();
    expect(first.handshake?.resumed).toBe(false);
    expect(second.handshake?.resumed).toBe(true);
    expect(b.handshake?.resumed).toBe(false);
  });

  it('the server is verified against the CA of the context: another CA refuses it', async () => {
    const heard: TlsHandshake[] = [];
    const r = await dial(dialerFor(other.ca, heard), heard);
    expect(r.handshake).toBeUndefined();
    // both CAs carry one name, so OpenSSL finds the issuer and fails its signature; any of its
    // verify errors says the same: the certificate did not chain to the context's CA
    expect(r.error).toMatch(/^(CERT_SIGNATURE_FAILURE|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?)$/);
  });
});
