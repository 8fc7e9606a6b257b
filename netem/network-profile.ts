/**
 * One network profile (as typed for `run --network`) → the latency proxy's settings, or null on
 * loopback. The profiles themselves and their parsing live in netem/network.ts.
 */
import { parseNetworks } from './network.ts';
import type { ProxySpec } from './network.ts';

export function resolveNetwork(text: string): { name: string; proxy: ProxySpec | null; problems: string[] } {
  const { profiles, problems } = parseNetworks(text);
  if (problems.length) return { name: text, proxy: null, problems };
  if (profiles.length !== 1) return { name: text, proxy: null, problems: [`names ${profiles.length} profiles; a run takes one (rank takes several)`] };
  const p = profiles[0];
  return {
    name: p.name,
    proxy: p.proxied ? { delayMs: p.delayMs, jitterMs: p.jitterMs, bandwidthBytesPerS: p.bandwidthBytesPerS, ...(p.link ? { link: p.link } : {}), ...(p.lossRate !== undefined ? { lossRate: p.lossRate } : {}), ...(p.lossBurst !== undefined ? { lossBurst: p.lossBurst } : {}) } : null,
    problems: [],
  };
}
