/**
 * The parts of a result record kept apart from its main figures (docs/result-schema.md): what each
 * injected fault did, the slow consumers, and the large topic's subscribers. ResultRecord
 * (record-schema.ts) holds them.
 */

/** What an injected fault did (run --fault; issue 8). */
export interface FaultResult {
  /** as typed, e.g. `restart-server@10s` */
  fault: string;
  kind: string;
  atS: number;
  /** what the runner did, or why the injection failed */
  injected: string;
  /** clients that lost their connection after the fault (before the next one) */
  disconnects: number;
  /** fault start → a client's first disconnect, µs */
  detectUs: { count: number; p50: number; p99: number; max: number };
  /** disconnect → connected again, µs (encoded HDR histogram and its percentiles) */
  reconnectUs: { count: number; p50: number; p99: number; max: number; histogram: string };
  lost: number;
  duplicates: number;
  /** epoch changes seen (a restarted server) */
  resets: number;
  /** messages published while their client was away, delivered after it came back (resumed) */
  recovered: number;
  /**
   * messages lost to a reset (a restarted server's new epoch), never to be resumed: the old
   * epoch's messages after each client's last one up to the kill (from the schedule), plus the
   * new epoch's messages already gone from its ring when the client came back. 0 without resets.
   */
  unrecovered: number;
  /** seconds from the fault until deliveries/s was back to 90 % of its level before; null if never */
  rateBackAfterS: number | null;
}

/** Slow consumers (run --slow-clients): recorded apart from the run's main figures. */
export interface SlowClientsResult {
  share: number;
  readBytesPerS: number;
  clients: number;
  delivered: number;
  lost: number;
  duplicates: number;
  reconnects: number;
  errors: number;
  latencyUs: { p50: number; p99: number; max: number };
  /** slow-consumer drops the server counted over the whole run (a --target: the measured window; null: unknown) */
  serverDrops: number | null;
}

/** The large topic's subscribers (run --large-topic): recorded apart from the run's main figures. */
export interface LargeTopicResult {
  topic: string;
  /** data bytes of each of its messages */
  payloadBytes: number;
  clients: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  reconnects: number;
  errors: number;
  /**
   * data bytes the clients decoded ÷ delivered (null: none delivered); bytes on the wire stay in
   * the record's counters, summed over every client's sockets, these included
   */
  payloadBytesPerMessage: number | null;
  latencyUs: { p50: number; p99: number; max: number };
}
