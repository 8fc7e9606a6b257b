/**
 * The runner's own requests to the server it measures (/healthz, /stats, the admin faults): over
 * HTTPS they verify the server against the CA the run trusts for its origin (the reference
 * server's, made at start, or a target's `--ca`), like the clients do; never unverified.
 *
 * Threading: the runner's main thread; one entry per origin while its run lasts.
 */
import { Agent, fetch as undiciFetch } from 'undici';

const trusted = new Map<string, Agent>();

/** Verify the HTTPS server at `url`'s origin against `ca` (PEM) from now on, until {@link untrust}. */
export function trust(url: string, ca: string): void {
  const origin = new URL(url).origin;
  void trusted.get(origin)?.close();
  trusted.set(origin, new Agent({ connect: { ca } }));
}

/** Forget what {@link trust} said about `url`'s origin. */
export function untrust(url: string): void {
  const origin = new URL(url).origin;
  void trusted.get(origin)?.close();
  trusted.delete(origin);
}

/** `fetch`, through the trusted CA of `url`'s origin when there is one (else the default roots). */
export function controlFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const dispatcher = trusted.get(new URL(url).origin);
  if (dispatcher === undefined) return fetch(url, init);
  return undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher }) as unknown as Promise<Response>;
}
