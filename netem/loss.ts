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
 * Retransmission delay, after Linux (RACK-TLP, RTO ≥ 200 ms), RTT = twice the one-way delay:
 * - a one-segment chunk (a small push message, mostly sent alone): a tail loss, with nothing
 *   after it to reveal it, recovered by a timer: the RTO on a steady path, SRTT + max(4·RTTVAR,
 *   200 ms) = RTT + 200 ms (the tail-loss probe for one segment in flight, 2·SRTT + 200 ms, is
 *   capped at the RTO);
 * - a chunk of several segments: a loss among segments in flight is found by RACK when a later
 *   one is acknowledged, after ~1.25 RTT, or by the tail-loss probe after 2·SRTT when the last one
 *   is lost: 2 RTT, the longer of the two.
 * Limits: chunk boundaries are not the sender's bursts (a lone segment followed within a round
 * trip by another chunk would be recovered after ~1.25 RTT, not RTT + 200 ms); a retransmission is
 * never lost (no backoff); no congestion-window cut after a loss; the retransmission takes no second
 * turn on a bandwidth-capped link; the loss draws are independent (no bursts).
 */

/** Payload bytes of one segment: a 1500-byte MTU less 20 (IP) and 32 (TCP with timestamps). */
export const SEGMENT_BYTES = 1448;

/** Probability that a chunk of `bytes` loses at least one of its segments at per-segment loss `p`. */
export function chunkLossProbability(bytes: number, p: number): number {
  return 1 - (1 - p) ** Math.max(1, Math.ceil(bytes / SEGMENT_BYTES));
}

/** How much later than its first copy a lost chunk of `bytes` arrives, for a one-way `delayMs` (see the header). */
export function retransmitDelayMs(bytes: number, delayMs: number): number {
  const rtt = 2 * delayMs;
  return bytes <= SEGMENT_BYTES ? rtt + 200 : 2 * rtt;
}
