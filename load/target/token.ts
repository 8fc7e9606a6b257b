/**
 * The token pushbench embeds in every message it publishes to a profile target, and finds again
 * in what the server pushes: `pb|<seq>|<tsUs>|<topic>|` padded with `x` to the payload size.
 * Plain ASCII with no quote, backslash or space, so it survives unchanged inside a JSON string,
 * a form field, a raw body or an SSE `data:` line, and can be found by one regex wherever the
 * server wrapped it. `tsUs` is the scheduled send time on servers/wire.ts nowUs's clock.
 */
import type { WireMessage } from '../../servers/wire.ts';

const TOKEN_RE = /pb\|(\d+)\|(\d+)\|([A-Za-z0-9._~-]{1,64})\|x*/;

/** The token for message `seq` of `topic` scheduled at `tsUs`, padded to `payloadBytes`. */
export function encodeToken(seq: number, tsUs: number, topic: string, payloadBytes: number): string {
  const head = `pb|${seq}|${Math.round(tsUs)}|${topic}|`;
  return payloadBytes > head.length ? head + 'x'.repeat(payloadBytes - head.length) : head;
}

/**
 * The message whose token is somewhere in `text` (the first one), as a WireMessage of `epoch`
 * (a per-run constant: the generator is the only publisher), or undefined when `text` holds none.
 */
export function decodeToken(text: string, epoch: string): WireMessage | undefined {
  const m = TOKEN_RE.exec(text);
  if (m === null) return undefined;
  return { seq: Number(m[1]), ts: Number(m[2]), topic: m[3], epoch, data: m[0] };
}
