/**
 * A worker's books of the faults injected into a run (`run --fault`): each fault opens a window
 * until the next, and what the worker's clients saw in it — disconnects, the time to detect and to
 * reconnect, loss, duplicates, resets, recovery — is tallied there (Recorder writes them) and
 * handed out as a {@link FaultTally}.
 */
import { createHistogram, encodeHistogram } from '../core/histogram.ts';
import type { ClientState } from './client-books.ts';

/** What one worker saw of one injected fault (its window runs until the next fault). */
export interface FaultTally {
  /** clients that lost their connection in the window */
  disconnects: number;
  /** fault start → each client's first disconnect, µs (encoded HDR) */
  detectUs: string;
  /** disconnect → connected again, µs (encoded HDR) */
  reconnectUs: string;
  lost: number;
  duplicates: number;
  resets: number;
  /** messages published while their client was disconnected, delivered after it came back */
  recovered: number;
  /** messages lost to a reset (new epoch): see {@link faultTally} */
  unrecovered: number;
}

/** One fault window of one worker's recorder, while the run goes on (Recorder keeps one per fault). */
export interface FaultState {
  atUs: number;
  disconnects: number;
  detect: ReturnType<typeof createHistogram>;
  reconnect: ReturnType<typeof createHistogram>;
  lost: number;
  duplicates: number;
  resets: number;
  recovered: number;
  /** when the old epoch ended (the server was killed); 0: unknown, the fault's start is used */
  epochEndedUs: number;
  /** per reset: the scheduled time of the last message the client had of the old epoch (0: none) */
  resetFromTs: number[];
  /** per reset: seqs of the new epoch before the first one the client got (gone from the ring) */
  newEpochMissed: number;
}

export function newFaultState(atUs: number): FaultState {
  return {
    atUs, disconnects: 0, detect: createHistogram(), reconnect: createHistogram(), lost: 0, duplicates: 0, resets: 0, recovered: 0,
    epochEndedUs: 0, resetFromTs: [], newEpochMissed: 0,
  };
}

/** The fault window `tUs` falls in (`faults` in start order), or undefined before the first. */
export function faultAt(faults: readonly FaultState[], tUs: number): FaultState | undefined {
  let found: FaultState | undefined;
  for (const f of faults) {
    if (f.atUs <= tUs) found = f;
    else break;
  }
  return found;
}

/**
 * `state`'s client lost its connection at `now` (µs; nothing when it is down already): the first
 * disconnect in a fault's window counts once, with the time from the fault's start to it.
 */
export function wentDown(faults: readonly FaultState[], state: ClientState, now: number): void {
  if (state.downSinceUs !== 0) return;
  state.downSinceUs = now;
  const f = faultAt(faults, now);
  if (!f) return;
  const idx = faults.indexOf(f);
  if (state.detectedFault < idx) {
    state.detectedFault = idx;
    f.disconnects++;
    f.detect.recordValue(Math.max(1, Math.round(now - f.atUs)));
  }
}

/** `state`'s client is connected again at `now` (µs): its time down goes to the window it went down in. */
export function cameBack(faults: readonly FaultState[], state: ClientState, now: number): void {
  if (state.downSinceUs === 0) return;
  faultAt(faults, state.downSinceUs)?.reconnect.recordValue(Math.max(1, Math.round(now - state.downSinceUs)));
  state.downSinceUs = 0;
  state.backAtUs = now;
}

/**
 * The tally of fault window `f`. `unrecovered` counts, per client reset in the window, what no
 * resume can bring back: the old epoch's messages after the client's last one, up to the epoch's
 * end (from the schedule: the topic's rate × the time from that message's `ts` to the kill;
 * unknown, so not counted, without a scheduled rate: `topicRatePerS` 0), plus the new epoch's
 * messages before the first one the client got (exact: its seq − 1).
 */
export function faultTally(f: FaultState, topicRatePerS: number): FaultTally {
  const rate = topicRatePerS;
  return {
    unrecovered: f.newEpochMissed + (rate > 0
      ? f.resetFromTs.reduce((n, ts) => n + (ts > 0 ? Math.max(0, Math.floor((((f.epochEndedUs || f.atUs) - ts) / 1e6) * rate + 1e-6)) : 0), 0)
      : 0),
    disconnects: f.disconnects,
    detectUs: encodeHistogram(f.detect),
    reconnectUs: encodeHistogram(f.reconnect),
    lost: f.lost,
    duplicates: f.duplicates,
    resets: f.resets,
    recovered: f.recovered,
  };
}
