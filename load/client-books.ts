/**
 * One client's books in a worker's recorder (load/recorder.ts): where its sequences stand, kept
 * across reconnects, and the event sink its driver reports to. Every event goes straight to the
 * recorder that owns the books.
 *
 * Threading: used on the worker thread of the recorder that created it.
 */
import type { ClientEvents, EngineEvent, MessageView, TlsHandshake } from './drivers/types.ts';
import type { WireMessage } from '../core/wire.ts';
import type { Counters } from '../core/record.ts';

/** Where one sequence stands for one client: a topic's seq, or one source's (profile chat). */
export interface SeqState {
  lastSeq: number;
  lastTs: number;
  /** seqs counted lost that may still arrive late (then they count as out of order) */
  missing: Set<number> | null;
}

/** Per-client sequence state, kept across reconnects. */
export interface ClientState extends SeqState {
  epoch: string;
  startedUs: number;
  /**
   * When its first connection was made (0: not yet). A client owes only what was scheduled from
   * then on: a message published while it was still connecting never had a subscriber to reach.
   */
  subscribedUs: number;
  /** the first seq accepted in the current epoch (0: none yet): with lastSeq, the range it saw */
  firstSeq: number;
  /** its topic's index in the publisher's timetable (-1 without one: load/recorder.ts schedule) */
  readonly topicIndex: number;
  /**
   * Messages that name their `source` (a profile target's chat: each sender numbers its own) are
   * accounted per source; the client's own lastTs is then the newest of them (for silence).
   */
  sources: Map<string, SeqState> | null;
  /** when the client lost its connection (0 while connected) */
  downSinceUs: number;
  /** when it last came back after losing its connection (0: never lost it) */
  backAtUs: number;
  /** index of the last fault window whose detection this client has recorded */
  detectedFault: number;
  /** messages of its window counted lost (gaps not filled later): the loss per client */
  lost: number;
}

/** What the books report to: the worker's Recorder (the only place that records into histograms). */
export interface BooksOwner {
  readonly counters: Counters;
  recordMessage(state: ClientState, epoch: string, seq: number, ts: number, source: string | undefined, dataLength: number, recvUs: number): void;
  connected(state: ClientState, connectUs: number): void;
  requested(plannedUs: number, sentUs: number, doneUs: number, empty: boolean): void;
  reconnecting(state: ClientState): void;
  /** the run's TLS handshakes, WebSocket extensions and Engine.IO events, kept by the owner */
  readonly tls: { record(h: TlsHandshake): void };
  readonly wsExtensions: Record<string, number>;
  readonly engine: { record(who: object, event: EngineEvent, us: number): void };
}

/**
 * One client's books and its event sink in one object: a delivery touches this object and the
 * shared recorder, not a closure, its context and a separate state object (1,000+ clients' state
 * is cold in the cache on every delivery; each object touched costs).
 */
export class ClientBooks implements ClientEvents, ClientState {
  // `recorder` and the seq state first: what every delivery reads, in the object's first cache
  // line (in-object properties are laid out in declaration order)
  private readonly recorder: BooksOwner;
  epoch = '';
  lastSeq = 0;
  lastTs = 0;
  missing: Set<number> | null = null;
  sources: Map<string, SeqState> | null = null;
  downSinceUs = 0;
  backAtUs = 0;
  detectedFault = -1;
  firstSeq = 0;
  lost = 0;
  subscribedUs = 0;

  readonly startedUs: number;
  readonly topicIndex: number;

  constructor(recorder: BooksOwner, startedUs: number, topicIndex = -1) {
    this.recorder = recorder;
    this.startedUs = startedUs;
    this.topicIndex = topicIndex;
  }

  connected(connectUs: number): void {
    this.recorder.connected(this, connectUs);
  }

  message(msg: WireMessage, recvUs: number): void {
    this.recorder.recordMessage(this, msg.epoch, msg.seq, msg.ts, msg.source, msg.data.length, recvUs);
  }

  messageView(v: MessageView, recvUs: number): void {
    this.recorder.recordMessage(this, v.epoch, v.seq, v.ts, undefined, v.dataEnd - v.dataStart, recvUs);
  }

  request(plannedUs: number, sentUs: number, doneUs: number, empty: boolean): void {
    this.recorder.requested(plannedUs, sentUs, doneUs, empty);
  }

  gap(): void {
    const errors = this.recorder.counters.errors;
    errors.GAP = (errors.GAP ?? 0) + 1;
  }

  error(code: string): void {
    const errors = this.recorder.counters.errors;
    errors[code] = (errors[code] ?? 0) + 1;
  }

  reconnecting(): void {
    this.recorder.reconnecting(this);
  }

  tls(h: TlsHandshake): void {
    this.recorder.tls.record(h);
  }

  extensions(accepted: string): void {
    this.recorder.wsExtensions[accepted] = (this.recorder.wsExtensions[accepted] ?? 0) + 1;
  }

  engine(event: EngineEvent, us: number): void {
    this.recorder.engine.record(this, event, us);
  }

  foreign(count: number): void {
    const c = this.recorder.counters;
    c.foreign = (c.foreign ?? 0) + count;
  }
}
