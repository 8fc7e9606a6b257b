/**
 * The latency proxy's loss model (network setting `loss=P`, netem/proxy.ts): what a lost TCP
 * segment does to the bytes of one connection, for a relay that cannot drop real segments.
 *
 * P is the loss probability of one segment of {@link SEGMENT_BYTES} (a 1500-byte Ethernet MTU's
 * payload). The proxy's unit is a chunk — one socket read, which may hold one push message or the
 * frames of many (HTTP/2's streams coalesce into one write) — so a chunk of b bytes spans
 * k = ⌈b / SEGMENT_BYTES⌉ segments and is lost with 1 − (1 − P)^k: a connection carrying ten tabs'
 * bytes is hit ten times as often as one carrying one tab's, as on a real link. Nothing is dropped
 * (TCP loses no byte): a lost chunk is released a retransmission delay after its first copy would
 * have been, and the proxy's FIFO rule then holds every later chunk of that connection and
 * direction behind it — TCP's in-order delivery, the head-of-line blocking of one connection.
 *
 * On a bandwidth-capped link the proxy transmits a chunk in pieces of whole segments (about 1 ms
 * of the link each) and draws each piece's loss apart, so a chunk of many segments is hit where
 * one of its pieces is, and the pieces before the lost one arrive on time.
 *
 * Retransmission delay, after Linux's RACK-TLP and RTO (≥ 200 ms), RTT = twice the one-way delay:
 * - a piece of several segments: a loss among them is revealed by the acknowledgement of a later
 *   one (RACK), the retransmission sent 1.25 RTT after the lost segment (RTT + a quarter RTT of
 *   reordering window): 1.25 RTT later than its first copy;
 * - a piece of one segment (a small push message, or a segment of a large one): when nothing sent
 *   before it is still unacknowledged it is a lone tail loss, recovered by the RTO, on a steady
 *   path SRTT + max(4·RTTVAR, 200 ms) = RTT + 200 ms (the tail-loss probe for one segment in
 *   flight, 2·SRTT + 200 ms, is capped at the RTO); with segments sent within the RTT before it
 *   still in flight, the tail-loss probe goes at 2·SRTT: 2 RTT (at most the RTO). When the next piece of its
 *   direction leaves `gap` after it and that comes sooner, its acknowledgement reveals the loss:
 *   max(gap + RTT, 1.25 RTT) ({@link rackDelayMs}). So on a connection busy with other tabs'
 *   messages, or inside a large message, a loss is recovered in about a round trip, on a quiet
 *   one after the RTO.
 * Losses are independent unless `burst=B` makes them come in runs ({@link burstLoss}).
 *
 * Limits: a retransmission is never lost (no backoff); no
 * congestion-window cut after a loss; the retransmission takes no second turn on a bandwidth-capped
 * link; without a bandwidth cap a chunk's segments leave together, and a lost one is taken not to
 * be the last of a several-segment chunk.
 */

/** Payload bytes of one segment: a 1500-byte MTU less 20 (IP) and 32 (TCP with timestamps). */
export const SEGMENT_BYTES = 1448;

/** Segments a piece of `bytes` spans (at least one). */
export function segmentsOf(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / SEGMENT_BYTES));
}

/** Probability that a chunk of `bytes` loses at least one of its segments at per-segment loss `p`. */
export function chunkLossProbability(bytes: number, p: number): number {
  return 1 - (1 - p) ** segmentsOf(bytes);
}

/**
 * Bursty loss (`burst=B`): Gilbert's two-state chain per link and direction, stepped once per
 * segment the link carries. In its losing state every segment is lost; it leaves that state with
 * r = 1 / B per segment (runs of B segments on average) and enters it with p = P·r / (1 − P), so
 * the long-run share of lost segments stays P. On a link shared by a browser's connections
 * (`link=browser`) one run can hit several of them, as a burst on a real access link does.
 * Steps the chain `segments` times (drawing from `random`); true when any of them was lost.
 */
export function burstLoss(link: { losing?: boolean }, segments: number, p: number, burst: number, random: () => number): boolean {
  const leave = 1 / burst;
  const enter = (p * leave) / (1 - p);
  let lost = false;
  for (let i = 0; i < segments; i++) {
    link.losing = link.losing ? random() >= leave : random() < enter;
    lost ||= link.losing;
  }
  return lost;
}

/**
 * How much later than its first copy a lost piece of `bytes` arrives, for a one-way `delayMs`,
 * `inFlight` when segments sent within the RTT before it are unacknowledged, unless a later piece
 * reveals the loss sooner ({@link rackDelayMs}; see the header).
 */
export function retransmitDelayMs(bytes: number, delayMs: number, inFlight = false): number {
  const rtt = 2 * delayMs;
  if (bytes > SEGMENT_BYTES) return 1.25 * rtt;
  // the probe's 2·SRTT never comes after the RTO
  return inFlight ? Math.min(2 * rtt, rtt + 200) : rtt + 200;
}

/** The retransmission delay when the next segment of the direction left `gapMs` after the lost one (RACK). */
export function rackDelayMs(gapMs: number, delayMs: number): number {
  const rtt = 2 * delayMs;
  return Math.max(gapMs + rtt, 1.25 * rtt);
}
