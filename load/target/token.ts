/**
 * The token pushbench embeds in every message it publishes to a profile target, and finds again
 * in what the server pushes: `pb|<run>|<seq>|<tsUs>|<topic>|` padded with `x` to the payload size.
 * Plain ASCII with no quote, backslash or space, so it survives unchanged inside a JSON string,
 * a form field, a raw body or an SSE `data:` line, and can be found by one regex wherever the
 * server wrapped it. `tsUs` is the scheduled send time on core/wire.ts nowUs's clock.
 *
 * Runs: `run` is the run id (load/run/settings.ts newRunId), made once per run. Servers keep
 * history (a message buffer per topic) and replay it to new subscribers; a message of another run
 * — another run id, or a token of the format before run ids, `pb|<seq>|<tsUs>|<topic>|` — is
 * {@link FOREIGN}: the client counts it apart and ignores it, so an earlier run's seqs are never
 * taken for this run's duplicates or gaps.
 *
 * Sequences: the generator's publisher (broadcast, fanout) is each topic's only publisher, so
 * `seq` rises by 1 per topic. In chat every member of a room publishes to it, and no publisher
 * knows the others' counts, so a per-topic seq cannot be kept; each client numbers its own
 * messages instead and says who it is: `pb|<run>|<seq>|<tsUs>|<topic>|<source>|`, `source` being
 * the publishing client's id (unique over the run, also across generator processes). The recorder
 * keeps loss, duplicate and order accounting per (receiver, source) for such messages, so a gap
 * in one sender's sequence is a loss exactly as a gap in a topic's is.
 */
import type { WireMessage } from '../../core/wire.ts';

/** A run id as tokens carry it (load/run/settings.ts RUN_ID_RE makes them). */
const TOKEN_RE = /pb\|([0-9a-z]{1,16})\|(\d+)\|(\d+)\|([A-Za-z0-9._~-]{1,64})\|(?:(\d+)\|)?x*/;
/** the token of pushbench before run ids: always another run's */
const OLD_TOKEN_RE = /pb\|\d+\|\d+\|[A-Za-z0-9._~-]{1,64}\|/;

/** What {@link decodeToken} returns for a token of another run. */
export const FOREIGN = 'foreign';

/**
 * The token of run `run` for message `seq` of `topic` scheduled at `tsUs`, padded to
 * `payloadBytes`; with `source`, `seq` counts that publisher's messages (chat) rather than the topic's.
 */
export function encodeToken(run: string, seq: number, tsUs: number, topic: string, payloadBytes: number, source?: number): string {
  const head = `pb|${run}|${seq}|${Math.round(tsUs)}|${topic}|${source === undefined ? '' : `${source}|`}`;
  return payloadBytes > head.length ? head + 'x'.repeat(payloadBytes - head.length) : head;
}

/**
 * The message whose token is somewhere in `text` (the first one), as a WireMessage whose epoch is
 * `run`; {@link FOREIGN} when the token is another run's; undefined when `text` holds none.
 */
export function decodeToken(text: string, run: string): WireMessage | typeof FOREIGN | undefined {
  const m = TOKEN_RE.exec(text);
  if (m === null) return OLD_TOKEN_RE.test(text) ? FOREIGN : undefined;
  if (m[1] !== run) return FOREIGN;
  const msg: WireMessage = { seq: Number(m[2]), ts: Number(m[3]), topic: m[4], epoch: run, data: m[0] };
  if (m[5] !== undefined) msg.source = m[5];
  return msg;
}
