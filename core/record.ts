/**
 * The result record: what one run writes, what every report, rank, capacity and compare read.
 * Schema-versioned JSON, mergeable (histograms add, counters sum), so results from worker threads,
 * processes or machines combine into one. Documented in docs/result-schema.md.
 *
 * One import for all of it: the schema (record-schema.ts), the counters (record-counters.ts), the summary
 * (record-summary.ts), the merge (record-merge.ts), reading and writing files (record-io.ts).
 */
export * from './record-schema.ts';
export * from './record-counters.ts';
export * from './record-summary.ts';
export * from './record-merge.ts';
export * from './record-io.ts';
export * from './record-tls.ts';
export * from './record-shard.ts';
export * from './record-socketio.ts';
