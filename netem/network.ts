/**
 * Network profiles: what the latency proxy (netem/proxy.ts) emulates between clients and server.
 *
 * | profile    | one-way delay | jitter   | bandwidth per direction per connection |
 * |------------|---------------|----------|----------------------------------------|
 * | `loopback` | none (no proxy)            |          |                           |
 * | `lan`      | 0.5 ms        | 0.05 ms  | unlimited                              |
 * | `wan`      | 25 ms         | 2 ms     | unlimited                              |
 * | `mobile`   | 75 ms         | 15 ms    | 1.5 Mbit/s = 187,500 bytes/s (a modest 3G/4G uplink; each simulated device has its own link) |
 *
 * The proxy's timers are millisecond-grained: `lan`'s 0.5 ms comes out at about 1.0–1.3 ms (see
 * netem/proxy.ts); it still differs from loopback by a real round trip per request.
 *
 * Custom profiles: `delay=40ms,jitter=5ms,bw=1MB` — keys `delay` (bare numbers are ms), `jitter`
 * (default 0, at most the delay), `bw` or `bandwidth` (bytes per second: `187500`, `64KB`, `1MB`,
 * or bits with `kbit`/`Mbit`/`Gbit`, decimal; optional `/s`; default unlimited), `link`
 * (`connection`, the default: `bw` per direction per connection; `browser`: per direction per
 * simulated browser, its connections sharing one link — it needs `bw`), `loss` (a percentage,
 * 0 < P < 100, per segment: a chunk the proxy relays that loses one of its segments is held for a
 * retransmission, and the rest of its connection behind it — netem/loss.ts states the model),
 * `burst` (with `loss`: the mean number of segments a loss takes in a row on one link, ≥ 1;
 * absent: each segment lost on its own).
 */
import { parseBytes, parseDurationMs } from '../core/units.ts';

export interface NetworkProfile {
  /** `loopback`, `lan`, `wan`, `mobile`, or the custom text in canonical form (parses back to itself) */
  name: string;
  /** false only for loopback: no proxy in the path */
  proxied: boolean;
  /** one-way delay, each direction */
  delayMs: number;
  jitterMs: number;
  /** per direction per link; null = unlimited */
  bandwidthBytesPerS: number | null;
  /** `link=browser`: a browser's connections share one link; absent: a link per connection */
  link?: 'browser';
  /** `loss=P`: the per-segment loss probability (0 < P < 1), netem/loss.ts; absent: none */
  lossRate?: number;
  /** `burst=B`: losses come in runs of B segments on average (netem/loss.ts); absent: independent */
  lossBurst?: number;
}

export const NETWORK_PROFILES: Readonly<Record<'loopback' | 'lan' | 'wan' | 'mobile', Readonly<NetworkProfile>>> = Object.freeze({
  loopback: Object.freeze({ name: 'loopback', proxied: false, delayMs: 0, jitterMs: 0, bandwidthBytesPerS: null }),
  lan: Object.freeze({ name: 'lan', proxied: true, delayMs: 0.5, jitterMs: 0.05, bandwidthBytesPerS: null }),
  wan: Object.freeze({ name: 'wan', proxied: true, delayMs: 25, jitterMs: 2, bandwidthBytesPerS: null }),
  mobile: Object.freeze({ name: 'mobile', proxied: true, delayMs: 75, jitterMs: 15, bandwidthBytesPerS: 187_500 }),
});

const BITS_PER_S: Record<string, number> = { kbit: 1e3, mbit: 1e6, gbit: 1e9 };

/** `1MB`, `187500`, `1.5Mbit`, `64KB/s` → bytes per second; undefined when unreadable or not > 0. */
export function parseBandwidthBytesPerS(text: string): number | undefined {
  const t = text.trim().replace(/\/s$/i, '');
  const bits = /^(\d+(?:\.\d+)?)\s*(kbit|mbit|gbit)$/i.exec(t);
  const v = bits ? (Number(bits[1]) * BITS_PER_S[bits[2].toLowerCase()]) / 8 : parseBytes(t);
  return v !== undefined && v > 0 ? v : undefined;
}

const msText = (ms: number) => `${Number(ms.toFixed(3))}ms`;

/** Parse `delay=…,jitter=…,bw=…` pairs (already split) into one profile, or its problems. */
function customProfile(pairs: [string, string][]): { profile?: NetworkProfile; problems: string[] } {
  const problems: string[] = [];
  let delayMs: number | undefined;
  let jitterMs = 0;
  let bandwidthBytesPerS: number | null = null;
  let link: LinkMode = 'connection';
  let lossRate: number | undefined;
  let lossBurst: number | undefined;
  for (const [key, value] of pairs) {
    if (key === 'delay' || key === 'jitter') {
      const v = parseDurationMs(value, 'ms');
      if (v === undefined) problems.push(`${key}=${value}: not a duration (write e.g. ${key}=25ms)`);
      else if (key === 'delay') delayMs = v;
      else jitterMs = v;
    } else if (key === 'bw' || key === 'bandwidth') {
      const v = parseBandwidthBytesPerS(value);
      if (v === undefined) problems.push(`${key}=${value}: not a positive bandwidth (write e.g. bw=1MB or bw=1.5Mbit)`);
      else bandwidthBytesPerS = v;
    } else if (key === 'link') {
      if (value === 'connection' || value === 'browser') link = value;
      else problems.push(`link=${value}: a link is per connection or per browser (write link=browser)`);
    } else if (key === 'loss') {
      const m = /^(\d+(?:\.\d+)?)%$/.exec(value);
      const v = m ? Number(m[1]) / 100 : undefined;
      if (v === undefined || !(v > 0 && v < 1)) problems.push(`loss=${value}: a loss is a percentage above 0 and below 100 (write e.g. loss=1%)`);
      else lossRate = v;
    } else if (key === 'burst') {
      const v = /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : undefined;
      if (v === undefined || v < 1) problems.push(`burst=${value}: a burst is the mean number of segments lost in a row, a number ≥ 1 (write e.g. burst=3)`);
      else lossBurst = v;
    } else {
      problems.push(`${key}=${value}: unknown network setting "${key}" (use delay, jitter, bw, link, loss, burst)`);
    }
  }
  if (pairs.some(([k]) => k === 'burst') && !pairs.some(([k]) => k === 'loss')) problems.push('burst= shapes the losses of loss=…: give loss=… too (e.g. loss=1%,burst=3)');
  if (link === 'browser' && bandwidthBytesPerS === null && !pairs.some(([k]) => k === 'bw' || k === 'bandwidth')) problems.push('link=browser shares a link\'s bandwidth among a browser\'s connections: give bw=… (e.g. bw=10Mbit)');
  if (delayMs === undefined && !pairs.some(([k]) => k === 'delay')) problems.push('a custom network needs delay=… (e.g. delay=40ms)');
  if (delayMs !== undefined && jitterMs > delayMs) problems.push(`jitter ${msText(jitterMs)} exceeds delay ${msText(delayMs)}; jitter must not exceed the delay`);
  if (problems.length > 0 || delayMs === undefined) return { problems };
  const parts = [`delay=${msText(delayMs)}`];
  if (jitterMs > 0) parts.push(`jitter=${msText(jitterMs)}`);
  if (bandwidthBytesPerS !== null) parts.push(`bw=${Math.round(bandwidthBytesPerS)}B/s`);
  if (link === 'browser') parts.push('link=browser');
  if (lossRate !== undefined) parts.push(`loss=${Number((lossRate * 100).toFixed(4))}%`);
  if (lossBurst !== undefined) parts.push(`burst=${Number(lossBurst.toFixed(3))}`);
  const extra = { ...(link === 'browser' ? { link } : {}), ...(lossRate !== undefined ? { lossRate } : {}), ...(lossBurst !== undefined ? { lossBurst } : {}) };
  return { profile: { name: parts.join(','), proxied: true, delayMs, jitterMs, bandwidthBytesPerS, ...extra }, problems };
}

/**
 * `loopback,wan` or `loopback,delay=40ms,jitter=5ms,bw=1MB,mobile` → profiles in order, or every
 * problem found. Consecutive `key=value` items form one custom profile; a key seen again starts
 * the next custom profile. Duplicate profiles are a problem (they would repeat whole runs).
 */
export function parseNetworks(text: string): { profiles: NetworkProfile[]; problems: string[] } {
  const profiles: NetworkProfile[] = [];
  const problems: string[] = [];
  const items = text.split(',').map((s) => s.trim());
  let pending: [string, string][] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const r = customProfile(pending);
    problems.push(...r.problems);
    if (r.profile) profiles.push(r.profile);
    pending = [];
  };
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq >= 0) {
      const key = item.slice(0, eq).trim().toLowerCase();
      const norm = key === 'bandwidth' ? 'bw' : key;
      if (pending.some(([k]) => (k === 'bandwidth' ? 'bw' : k) === norm)) flush();
      pending.push([key, item.slice(eq + 1).trim()]);
      continue;
    }
    flush();
    if (item === '') {
      problems.push(`empty network name in ${JSON.stringify(text)}`);
    } else if (Object.hasOwn(NETWORK_PROFILES, item)) {
      profiles.push({ ...NETWORK_PROFILES[item as keyof typeof NETWORK_PROFILES] });
    } else {
      problems.push(`unknown network "${item}" (use ${Object.keys(NETWORK_PROFILES).join(', ')}, or delay=40ms,jitter=5ms,bw=1MB)`);
    }
  }
  flush();
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.name)) problems.push(`network "${p.name}" is listed twice`);
    seen.add(p.name);
  }
  return problems.length > 0 ? { profiles: [], problems } : { profiles, problems };
}

/**
 * What the proxy's bandwidth cap paces: each connection on links of its own (`connection`), or
 * every connection of one simulated browser on one link per direction (`browser`, network setting
 * `link=browser`; the proxy knows a browser by its connections' loopback source address).
 */
export type LinkMode = 'connection' | 'browser';

/** One-way delay each direction, jitter and optional bandwidth cap of the proxy, and what shares a link. */
export interface ProxySpec {
  delayMs: number;
  jitterMs: number;
  bandwidthBytesPerS: number | null;
  /** absent: `connection` */
  link?: LinkMode;
  /** `loss=P` as a probability (0 < P < 1); absent: no loss */
  lossRate?: number;
  /** `burst=B`: mean segments per loss run; absent: independent losses */
  lossBurst?: number;
}
