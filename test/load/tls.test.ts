/**
 * `--tls` end to end (docs/tls.md): the reference server on HTTPS/WSS with a CA made at the run's
 * start, every transport's clients verifying it, the record's TLS figures; an https:// --target
 * verified against `--ca`; and the bad inputs refused before any work. Small scale: the cost of
 * TLS is measured by `npm run bench:tls`, not here.
 *
 * Heavy: TLS handshakes of every transport's clients, full and resumed after a cut.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newTlsFolder } from '../../core/tls.ts';
import { TRANSPORTS } from '../../load/drivers/index.ts';
import { runOnce } from '../../load/runner.ts';
import { startServer } from '../../servers/server.ts';
import { pushbench } from '../cli.ts';
import { expectCleanRun, runSettings } from './settings.ts';

const CLIENTS = 20;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('run --tls', () => {
  it.each(TRANSPORTS)('%s: valid, 0 lost over TLS 1.3; the cut clients come back on resumed handshakes', async (transport) => {
    // the cut at the warm-up's end: every client has connected (20 arrive in 20 ms) and, a short
    // poll, made its first poll (within Δ = 250 ms)
    const s = runSettings(transport, ['--tls', '--clients', String(CLIENTS), '--duration', '1500ms', '--warmup', '500ms', '--rate', '10', '--fault', 'cut-connections@500ms:50%']);
    const r = await runOnce(s);
    // 1 measured second at 10 msg/s to every client, the cut ones resumed from their last seq:
    // an SSE client waits the server's retry (1 s ± 20 %) first, back by 1.7 s, before the books
    // close at 1.5 s + the 0.5 s drain
    expectCleanRun(r, 1, 10, CLIENTS);
    expect(r.config.tls).toBe(true);
    const tls = r.tls!;
    expect(tls.protocols).toEqual({ 'TLSv1.3': tls.handshakes });
    // each client's first connection has no session to offer: a full handshake, one per client
    expect(tls.full).toBe(CLIENTS);
    // every client the cut reached comes back with the ticket of the connection it lost, and the
    // server (same process, same ticket keys) takes it; one cut reaches a client at most once. A
    // short poll's idle keep-alive socket is cut between polls and reopened by the next poll
    // without an error, so only the transports that hold a connection count reconnects.
    expect(tls.resumed).toBeGreaterThan(0);
    expect(tls.resumed).toBeLessThanOrEqual(CLIENTS);
    if (r.counters.reconnects > 0) expect(tls.resumed).toBe(r.counters.reconnects);
    expect(tls.resumedUs).not.toBeNull();
    // both parts of a connect take time: neither share can be 0 or all
    expect(tls.handshakeShare).toBeGreaterThan(0);
    expect(tls.handshakeShare).toBeLessThan(1);
  }, 20_000);

  it('an https:// --target is verified against --ca FILE', async () => {
    const { dir, material } = await newTlsFolder();
    dirs.push(dir);
    const caFile = join(dir, 'client-ca.pem');
    writeFileSync(caFile, material.ca);
    const server = await startServer({ port: 0, ratePerS: 10, tlsDir: dir });
    try {
      const [transport] = TRANSPORTS;
      const s = runSettings(transport, ['--target', server.url, '--ca', caFile, '--clients', '10', '--duration', '1500ms', '--warmup', '500ms', '--rate', '10']);
      const r = await runOnce(s);
      expectCleanRun(r, 1, 10, 10);
      expect(r.config.tls).toBe(true);
      expect(r.tls!.full).toBe(10);
    } finally {
      await server.close();
    }
  }, 20_000);

  it('bad input: --tls towards http://, an unreadable --ca, a --ca without https:// — exit 2, every problem listed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-tls-bad-'));
    dirs.push(out);
    const [transport] = TRANSPORTS;
    const r = await pushbench(['run', '--transport', transport, '--tls', '--target', 'http://127.0.0.1:9', '--ca', join(out, 'missing.pem'), '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--tls speaks TLS to the server, but --target http://127.0.0.1:9 is http://');
    expect(r.stderr).toContain('--ca verifies an https:// --target');
    expect(r.stderr).toMatch(/--ca \S+missing\.pem cannot be read \(ENOENT\)/);
    const serve = await pushbench(['serve', '--port', '0', '--ca-out', join(out, 'ca.pem')]);
    expect(serve.status).toBe(2);
    expect(serve.stderr).toContain('--ca-out writes the CA of a certificate made at start: it needs --tls');
  }, 20_000);
});
