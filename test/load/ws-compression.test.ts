/**
 * `--ws-compression` and `--payload-kind` end to end (docs/ws-compression.md): permessage-deflate
 * negotiated by the reference server and the WebSocket clients, recorded, and what it does to the
 * bytes on the wire per message for a repetitive JSON payload and for random bytes. Small scale;
 * the CPU and memory it costs are bench figures.
 */
import { describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../core/record.ts';
import { TRANSPORTS, traitsOf } from '../../load/drivers/index.ts';
import { runOnce } from '../../load/runner.ts';
import { expectCleanRun, runSettings } from './settings.ts';

const CLIENTS = 20;
const PAYLOAD = 1024;
const deflating = TRANSPORTS.find((t) => traitsOf(t).deflate)!;

async function run(kind: string, compression: boolean): Promise<ResultRecord> {
  const argv = ['--clients', String(CLIENTS), '--duration', '1500ms', '--warmup', '500ms', '--rate', '10', '--payload', String(PAYLOAD), '--payload-kind', kind];
  const r = await runOnce(runSettings(deflating, compression ? [...argv, '--ws-compression'] : argv));
  expectCleanRun(r, 1, 10, CLIENTS);
  expect(r.config.payloadKind).toBe(kind);
  return r;
}

describe('--ws-compression', () => {
  it('a repetitive 1 KB JSON payload: negotiated on every connection, bytes per message down more than tenfold', async () => {
    const plain = await run('json', false);
    const deflated = await run('json', true);
    expect(plain.wsExtensions).toBeUndefined();
    expect(deflated.config.wsCompression).toBe(true);
    // every connection (one per client, none cut) had the server accept the offer
    expect(deflated.wsExtensions).toEqual({ 'permessage-deflate': CLIENTS });
    // plain, the escaped JSON is more than the payload itself on the wire
    expect(plain.summary.bytesPerMessage!).toBeGreaterThan(PAYLOAD);
    // the same ~90-byte record repeats, and each message repeats the one before it within the
    // 32 KB window the contexts keep: deflate keeps a few dozen bytes of each
    expect(deflated.summary.bytesPerMessage!).toBeLessThan(plain.summary.bytesPerMessage! / 10);
  }, 20_000);

  it('random bytes: no drop past the 6 bits a base64url character carries', async () => {
    const plain = await run('random', false);
    const deflated = await run('random', true);
    expect(deflated.wsExtensions).toEqual({ 'permessage-deflate': CLIENTS });
    // each payload is fresh random bits: deflate can code a character in no fewer than its 6
    // random bits, so a message keeps at least 3/4 of its payload's bytes. The window's bytes are
    // read at its edges and its deliveries judged by their stamps, so up to one message per client
    // at an edge is delivered in the window with its bytes outside it: per message, the floor is
    // 3/4 of a payload over (delivered − clients) / delivered.
    const delivered = deflated.summary.delivered;
    expect(deflated.summary.bytesPerMessage!).toBeGreaterThanOrEqual(0.75 * PAYLOAD * (delivered - CLIENTS) / delivered);
    expect(deflated.summary.bytesPerMessage!).toBeLessThan(plain.summary.bytesPerMessage!);
  }, 20_000);
});
