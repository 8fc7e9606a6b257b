/**
 * The token pushbench embeds in every message it publishes to a profile target, and finds again
 * in what the server pushes: `pb|<seq>|<tsUs>|<topic>|` padded with `x` to the payload size.
 * Plain ASCII with no quote, backslash or space, so it survives unchanged inside a JSON string,
 * a form field, a raw body or an SSE `data:` line, and can be found by one regex wherever the
 * server wrapped it. `tsUs` is the scheduled send time on core/wire.ts nowUs's clock.
 *
 * Sequences: the generator's publisher (broadcast, fanout) is each topic's only publisher, so
 * `seq` rises by 1 per topic. In chat every member of a room publishes to it, and no publisher
 * knows the others' counts, so a per-topic seq cannot be kept; each client numbers its own
 * messages instead and says who it is: `pb|<seq>|<tsUs>|<topic>|<source>|`, `source` being the
 * publishing client's id (unique over the run, also across generator processes). The recorder
 * keeps loss, duplicate and order accounting per (receiver, source) for such messages, so a gap
 * in one sender's sequence is a loss exactly as a gap in a topic's is.
 */
import type { WireMessage } from '../../core/wire.ts';

const TOKEN_RE = /pb\|(\d+)\|(\d+)\|([A-Za-z0-9._~-]{1,64})\|(?:(\d+)\|)?x*/;

/**
 * The token for message `seq` of `topic` scheduled at `tsUs`, padded to `payloadBytes`; with
 * `source`, `seq` counts that publisher's messages (chat) rather than the topic's.
 */
export function encodeToken(seq: number, tsUs: number, topic: string, payloadBytes: number, source?: number): string {
  const head = `pb|${seq}|${Math.round(tsUs)}|${topic}|${source === undefined ? '' : `${source}|`}`;
  return payloadBytes > head.length ? head + 'x'.repeat(payloadBytes - head.length) : head;
}

/**
 * The message whose token is somewhere in `text` (the first one), as a WireMessage of `epoch`
 * (a per-run constant: only the generator publishes), or undefined when `text` holds none.
 */
export function decodeToken(text: string, epoch: string): WireMessage | undefined {
  const m = TOKEN_RE.exec(text);
  if (m === null) return undefined;
  const msg: WireMessage = { seq: Number(m[1]), ts: Number(m[2]), topic: m[3], epoch, data: m[0] };
  if (m[4] !== undefined) msg.source = m[4];
  return msg;
}
