/**
 * The record's TLS figures (docs/result-schema.md, docs/tls.md): every TLS handshake of the run's
 * clients, the whole run long (connections open during the ramp and after cuts, mostly outside
 * the measured window), its connect time split into TCP and TLS, full and resumed handshakes
 * apart. The summable part crosses threads and processes; the rest is derived from it.
 */
import { addEncoded, decodeHistogram, percentiles } from './histogram.ts';

/** What adds up over workers, processes and machines. */
export interface TlsTally {
  /** handshakes that did the full exchange (certificate and all) */
  full: number;
  /** handshakes that resumed a session (the server took the client's ticket) */
  resumed: number;
  /** handshakes by negotiated version, e.g. `{"TLSv1.3": 1000}` */
  protocols: Record<string, number>;
  /** handshakes by negotiated cipher suite */
  ciphers: Record<string, number>;
  /** µs summed over the handshakes: the TCP connects, the TLS handshakes after them */
  tcpUsSum: number;
  tlsUsSum: number;
  /** encoded HDR histograms, µs: TCP connect; TLS handshake, full and resumed apart */
  histograms: { tcpUs: string; fullUs: string; resumedUs: string };
}

type Quantiles = { p50: number; p99: number };

/** A run's TLS figures: the tally and what a reader wants from it. */
export interface TlsFigures extends TlsTally {
  handshakes: number;
  /** the TLS handshake's share of the connect time (TCP + TLS), over every handshake; 0..1 */
  handshakeShare: number;
  tcpUs: Quantiles;
  /** the TLS part, full and resumed handshakes apart (null: there were none) */
  fullUs: Quantiles | null;
  resumedUs: Quantiles | null;
}

function quantiles(encoded: string): Quantiles | null {
  const p = percentiles(decodeHistogram(encoded));
  return p.count === 0 ? null : { p50: p.p50, p99: p.p99 };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  return into;
}

/** The figures of `parts` added up; undefined when none has any (a run without TLS). */
export function tlsFiguresOf(parts: readonly (TlsTally | undefined)[]): TlsFigures | undefined {
  const ts = parts.filter((p): p is TlsTally => p !== undefined);
  if (ts.length === 0) return undefined;
  const sum = (k: 'full' | 'resumed' | 'tcpUsSum' | 'tlsUsSum') => ts.reduce((n, t) => n + t[k], 0);
  const hist = (k: keyof TlsTally['histograms']) => addEncoded(ts.map((t) => t.histograms[k]));
  const tally: TlsTally = {
    full: sum('full'),
    resumed: sum('resumed'),
    protocols: ts.reduce((acc, t) => addCounts(acc, t.protocols), {}),
    ciphers: ts.reduce((acc, t) => addCounts(acc, t.ciphers), {}),
    tcpUsSum: sum('tcpUsSum'),
    tlsUsSum: sum('tlsUsSum'),
    histograms: { tcpUs: hist('tcpUs'), fullUs: hist('fullUs'), resumedUs: hist('resumedUs') },
  };
  const connectUs = tally.tcpUsSum + tally.tlsUsSum;
  return {
    handshakes: tally.full + tally.resumed,
    handshakeShare: connectUs > 0 ? tally.tlsUsSum / connectUs : 0,
    tcpUs: quantiles(tally.histograms.tcpUs) ?? { p50: 0, p99: 0 },
    fullUs: quantiles(tally.histograms.fullUs),
    resumedUs: quantiles(tally.histograms.resumedUs),
    ...tally,
  };
}
