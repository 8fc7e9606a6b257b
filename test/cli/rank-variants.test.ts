/**
 * `pushbench rank --variants plain,tls` (docs/tls.md): every transport ranked on each network plain
 * and over TLS — the TLS variant a network of its own in the grid (`loopback+tls`), its cell ranked
 * apart, its runs named and recorded as such (`--tls-record-size` the TLS variant's alone); and the
 * bad inputs.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultRecord } from '../../core/record.ts';
import { TRANSPORTS } from '../../load/drivers/index.ts';
import { pushbench } from '../cli.ts';

const two = TRANSPORTS.slice(0, 2);

describe('pushbench rank --variants', () => {
  it('plain,tls: a ranking per variant, the TLS runs recorded with their handshakes and the record size (the plain ones without)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-variants-'));
    const r = await pushbench(['rank', '--transports', two.join(','), '--repeats', '1', '--network', 'loopback', '--variants', 'plain,tls', '--tls-record-size', '4KB',
      '--clients', '20', '--duration', '1500ms', '--warmup', '500ms', '--rates', '10', '--no-report', '--out', out, '--name', 'v'], 50_000);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Ranking on loopback, 10 msg/s, 20 clients');
    expect(r.stdout).toContain('Ranking on loopback+tls, 10 msg/s, 20 clients');
    const dir = join(out, 'v');
    const ranking = JSON.parse(readFileSync(join(dir, 'ranking.json'), 'utf8')) as { cells: { network: string }[] };
    expect(ranking.cells.map((c) => c.network)).toEqual(['loopback', 'loopback+tls']);
    const records = readdirSync(dir).filter((f) => f.endsWith('-r1.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ResultRecord);
    // one run per transport and variant, each labelled by its variant
    expect(records).toHaveLength(2 * two.length);
    for (const rec of records) {
      const tls = rec.name.includes('+tls');
      expect(Boolean(rec.config.tls)).toBe(tls);
      expect(rec.tls !== undefined).toBe(tls);
      expect(rec.config.tlsRecordBytes).toBe(tls ? 4096 : undefined);
      expect(rec.valid).toBe(true);
    }
  }, 50_000);

  it('bad input: --tls with --variants, --variants plain towards an https:// target — exit 2, both listed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pushbench-rank-variants-'));
    const r = await pushbench(['rank', '--tls', '--variants', 'plain', '--target', 'https://127.0.0.1:9', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--tls with --variants');
    expect(r.stderr).toContain('--variants plain: an https:// --target speaks TLS only');
  });
});
