/**
 * SSE over HTTP/2 against a server of someone else's shape (shaped-server.ts with `tls`: HTTP/2
 * and HTTP/1.1 by ALPN, its SSE stream through the profile's `sse-h2`): a browser's tabs share
 * one HTTP/2 connection, the profile's event name, JSON path and Last-Event-ID cursor apply, the
 * client verifies the server against `--ca`; valid, 0 lost, 0 duplicates. (Light: 20 clients on
 * 4–6 TLS connections.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTlsMaterial } from '../../../core/tls.ts';
import { runOnce } from '../../../load/runner.ts';
import { expectCleanRun, runSettings } from '../settings.ts';
import { SHAPED_CLIENTS, SHAPED_DURATION_S, SHAPED_RATE, SHAPED_WARMUP_S, shapedRunArgs, startShapedServer, type ShapedServer } from './shaped-server.ts';

const TABS = 5;
const dir = mkdtempSync(join(tmpdir(), 'pb-shaped-h2-'));
const caFile = join(dir, 'ca.pem');
let server: ShapedServer;

beforeAll(async () => {
  const tls = await makeTlsMaterial();
  writeFileSync(caFile, tls.ca);
  server = await startShapedServer({ tls });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sse-h2 through a profile, against a foreign server', () => {
  it(`${SHAPED_CLIENTS} subscriptions at ${TABS} tabs a browser: valid, 0 lost, 0 duplicates, the browsers' connections HTTP/2 sessions`, async () => {
    const r = await runOnce(runSettings('sse-h2', shapedRunArgs(server.url, { extra: ['--ca', caFile, '--streams-per-connection', String(TABS)] })));
    expectCleanRun(r, SHAPED_DURATION_S - SHAPED_WARMUP_S, SHAPED_RATE, SHAPED_CLIENTS);
    expect(Object.keys(r.counters.errors)).toEqual([]);
    expect(r.config.tls).toBe(true);
    expect(r.config.streamsPerConnection).toBe(TABS);
    // each generator thread fills its browsers in arrival order, so its last may be part full: at
    // most one session more per thread (the profile's publisher speaks HTTP/1.1: no session)
    expect(server.h2Sessions()).toBeGreaterThanOrEqual(SHAPED_CLIENTS / TABS);
    expect(server.h2Sessions()).toBeLessThanOrEqual(SHAPED_CLIENTS / TABS + r.config.workers);
  }, 30_000);
});
