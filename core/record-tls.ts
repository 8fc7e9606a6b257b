/**
 * The record's TLS figures (TlsFigures in record-schema.ts, docs/tls.md) from their summable part:
 * what crosses threads and processes adds up, the rest is derived from it.
 */
import { addEncoded, decodeHistogram, percentiles } from './histogram.ts';
import { addCounts } from './record-counters.ts';
import { type TlsFigures, type TlsTally } from './record-schema.ts';

function quantiles(encoded: string): { p50: number; p99: number } | null {
  const p = percentiles(decodeHistogram(encoded));
  return p.count === 0 ? null : { p50: p.p50, p99: p.p99 };
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
    protocols: addCounts(ts.map((t) => t.protocols)),
    ciphers: addCounts(ts.map((t) => t.ciphers)),
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
