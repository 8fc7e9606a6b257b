/**
 * TLS for one simulated client: its connections open TCP first, then TLS over that socket, so the
 * connect time splits into its TCP and TLS parts and the TCP socket's counters are the bytes on
 * the wire (a TLS socket counts the plaintext). The server is verified against `ca` (the system's
 * roots when absent), never skipped. The client keeps the last session ticket the server gave it
 * and offers it on its next connection, as a browser does: a reconnect resumes when the server
 * takes it (reported per handshake).
 *
 * Threading: one dialer per client, on that client's event loop; the trust ({@link contextFor}) is
 * shared by the thread's clients.
 */
import net from 'node:net';
import tls from 'node:tls';
import { nowUs } from '../../core/wire.ts';
import type { buildConnector } from 'undici';
import type { SocketCounter } from './sockets.ts';
import type { ClientEvents, ClientTls } from './types.ts';

/** Where to connect: host and port, from a source address (undefined: the OS's choice). */
export interface DialTarget {
  host: string;
  port: number;
  localAddress?: string;
  /** source port to bind with it (undefined: the OS's choice) */
  localPort?: number;
  /** ALPN protocols to offer, most wanted first */
  alpn: readonly string[];
}

/** A TLS socket's session setter (node:tls has it; @types/node does not declare it). */
type SessionSetter = tls.TLSSocket & { setSession(session: Buffer): void };

/** The thread's secure contexts by the CA text they trust ('' for the system's roots). */
const contexts = new Map<string, tls.SecureContext>();

/**
 * The one secure context of this thread for `trust`: its clients share it, as a browser's tabs share
 * one trust store. Sessions stay each client's own (offered through `session`, never cached in the
 * context). Without it `tls.connect` builds a context per connection, and given `ca` that copies
 * the root store and parses the CA each time: the generator's work, not a browser's.
 */
export function contextFor(trust: ClientTls): tls.SecureContext {
  const key = trust.ca ?? '';
  let context = contexts.get(key);
  if (context === undefined) contexts.set(key, (context = tls.createSecureContext(trust.ca === undefined ? {} : { ca: trust.ca })));
  return context;
}

export class TlsDialer {
  /** the newest session the server issued on this client's connections, offered on the next */
  private session: Buffer | undefined;
  private readonly context: tls.SecureContext;

  constructor(
    trust: ClientTls,
    /** hears each handshake (`tls`); absent: not reported */
    private readonly events?: ClientEvents,
  ) {
    this.context = contextFor(trust);
  }

  /**
   * A TLS socket to `to`: its TCP socket tracked in `counter`, each handshake reported through
   * `events.tls` when it completes (before `secureConnect` listeners added after this call).
   */
  connect(counter: SocketCounter, to: DialTarget): tls.TLSSocket {
    const startUs = nowUs();
    const raw = net.connect({ host: to.host, port: to.port, localAddress: to.localAddress, localPort: to.localPort, noDelay: true });
    counter.track(raw);
    let tcpUs = -1;
    // Registered before tls.connect's own, so it runs first: the session is set once the TCP
    // socket connects and before the handshake starts (TLSSocket._start waits for this 'connect').
    // Setting it then, not at the attempt, spares an attempt the server refuses the session's
    // decoding (OpenSSL 3.0 parses the server certificate the session holds, ~0.2 ms), which a
    // reconnect storm pays for every refused attempt while the server restarts.
    const offered = this.session;
    raw.once('connect', () => {
      tcpUs = nowUs() - startUs;
      if (offered !== undefined) (socket as SessionSetter).setSession(offered);
    });
    const socket = tls.connect({
      socket: raw,
      host: to.host,
      // SNI carries names only (RFC 6066); an address is checked against the certificate's IP SANs.
      servername: net.isIP(to.host) ? '' : to.host,
      secureContext: this.context,
      ALPNProtocols: [...to.alpn],
    });
    // Not tls.connect's `session` option: Node 20 decodes that option twice (in the socket's init
    // and again in connect), each time parsing the certificate; TLSSocket's setSession (untyped in
    // @types/node) decodes it once.
    socket.on('session', (session: Buffer) => (this.session = session));
    socket.once('secureConnect', () => {
      const doneUs = nowUs();
      const tcp = tcpUs < 0 ? doneUs - startUs : tcpUs;
      this.events?.tls?.({
        tcpUs: tcp,
        tlsUs: doneUs - startUs - tcp,
        resumed: socket.isSessionReused(),
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: socket.getCipher()?.name ?? 'unknown',
      });
    });
    return socket;
  }
}

/**
 * An undici `connect` function over `dialer`: the socket is handed over once its handshake is done,
 * and `onConnected` hears the whole connect time (TCP and TLS) in µs.
 */
export function tlsConnector(dialer: TlsDialer, counter: SocketCounter, alpn: readonly string[], onConnected?: (connectUs: number) => void): buildConnector.connector {
  return (options, callback) => {
    const startUs = nowUs();
    const socket = dialer.connect(counter, { host: options.hostname, port: Number(options.port) || 443, localAddress: options.localAddress ?? undefined, alpn });
    const onError = (err: Error) => callback(err, null);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      onConnected?.(nowUs() - startUs);
      callback(null, socket);
    });
    return socket;
  };
}

/** What the WebSocket handshake offers in ALPN (an upgrade is HTTP/1.1). */
const WS_ALPN = ['http/1.1'] as const;

/** A `createConnection` for `ws` over `dialer` (ws hands over the request's options: host, port, localAddress, localPort). */
export function tlsNetConnect(dialer: TlsDialer, counter: SocketCounter): (options: net.NetConnectOpts) => net.Socket {
  return (options) => {
    const o = options as net.TcpNetConnectOpts;
    return dialer.connect(counter, { host: o.host ?? 'localhost', port: o.port, localAddress: o.localAddress, localPort: o.localPort, alpn: WS_ALPN });
  };
}
