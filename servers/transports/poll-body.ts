/**
 * The PollAnswer body (core/wire.ts) shared by short and long polling, built by joining the
 * messages' cached JSON texts (no per-request re-serialization of messages).
 */
import type { SinceResult } from '../hub.ts';

export function pollBody(epoch: string, r: SinceResult): string {
  const gap = r.gap ? `true,"gapFrom":${r.gap.from},"gapTo":${r.gap.to}` : 'false';
  let messages = '';
  for (let i = 0; i < r.messages.length; i++) messages += (i ? ',' : '') + r.messages[i].json;
  return `{"epoch":${JSON.stringify(epoch)},"next":${r.next},"gap":${gap},"messages":[${messages}]}`;
}
