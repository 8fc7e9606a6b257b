/**
 * One worker thread's TLS handshakes (the recorder's, load/recorder.ts): their TCP and TLS times
 * into HDR histograms, full and resumed apart, and what they negotiated. Read once, at the end.
 */
import { createHistogram, encodeHistogram } from '../core/histogram.ts';
import type { TlsTally } from '../core/record.ts';
import type { TlsHandshake } from './drivers/types.ts';

export class TlsBook {
  private readonly tcp = createHistogram();
  private readonly full = createHistogram();
  private readonly resumed = createHistogram();
  private readonly protocols: Record<string, number> = {};
  private readonly ciphers: Record<string, number> = {};
  private tcpUsSum = 0;
  private tlsUsSum = 0;
  private count = 0;

  record(h: TlsHandshake): void {
    const tcpUs = Math.max(1, Math.round(h.tcpUs));
    const tlsUs = Math.max(1, Math.round(h.tlsUs));
    this.count++;
    this.tcp.recordValue(tcpUs);
    (h.resumed ? this.resumed : this.full).recordValue(tlsUs);
    this.tcpUsSum += tcpUs;
    this.tlsUsSum += tlsUs;
    this.protocols[h.protocol] = (this.protocols[h.protocol] ?? 0) + 1;
    this.ciphers[h.cipher] = (this.ciphers[h.cipher] ?? 0) + 1;
  }

  /** What was recorded; undefined when no handshake was (a run without TLS). */
  tally(): TlsTally | undefined {
    if (this.count === 0) return undefined;
    return {
      full: this.full.totalCount,
      resumed: this.resumed.totalCount,
      protocols: { ...this.protocols },
      ciphers: { ...this.ciphers },
      tcpUsSum: this.tcpUsSum,
      tlsUsSum: this.tlsUsSum,
      histograms: { tcpUs: encodeHistogram(this.tcp), fullUs: encodeHistogram(this.full), resumedUs: encodeHistogram(this.resumed) },
    };
  }
}
