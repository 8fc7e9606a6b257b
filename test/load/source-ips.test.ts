/**
 * `--source-ips`: the addresses clients send from, so one target is not capped by one address's
 * ephemeral ports. Parsing and the check that each address is this machine's; then a real run
 * whose sockets, read from the kernel's table (/proc/net/tcp), leave from exactly those addresses.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSourceIps, runOnce } from '../../load/runner.ts';
import { startServer } from '../../servers/server.ts';
import { pushbench } from '../cli.ts';
import { parseShardArgs } from '../../cli/shard-command.ts';
import { shardSettings } from '../../dist/shard.ts';
import { writePlan } from '../dist/shards.ts';
import { runSettings } from './settings.ts';

/** Established TCP sockets to `port` in this network namespace, by local IPv4 address. */
function sourcesTo(port: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (!remote || state !== '01' || parseInt(remote.split(':')[1], 16) !== port) continue;
    const hex = local.split(':')[0];
    // little-endian hex: 0800007F is 127.0.0.8
    const ip = [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    out.set(ip, (out.get(ip) ?? 0) + 1);
  }
  return out;
}

describe('--source-ips', () => {
  it('parses a list or an IPv4 CIDR and refuses what is not this machine\'s', () => {
    expect(parseSourceIps('127.0.0.8, 127.0.0.9')).toEqual(['127.0.0.8', '127.0.0.9']);
    // a /30 has two hosts; its network and broadcast addresses are left out
    expect(parseSourceIps('127.0.1.0/30')).toEqual(['127.0.1.1', '127.0.1.2']);
    expect(parseSourceIps('127.0.1.7/32')).toEqual(['127.0.1.7']);
    expect(parseSourceIps('127.0.0.0/16')).toMatch(/65534 addresses, more than 1024/);
    expect(parseSourceIps('127.0.0.1,not-an-ip')).toMatch(/not addresses \(not-an-ip\)/);
    // TEST-NET-2 (RFC 5737) is on no interface of a test machine
    expect(parseSourceIps('198.51.100.7')).toMatch(/198\.51\.100\.7 not on this machine's interfaces/);
    expect(parseSourceIps('300.0.0.1/24')).toMatch(/not an IPv4 CIDR/);
  });

  it('a run\'s clients connect from exactly the given addresses, the record says how many', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', ratePerS: 10, topics: 1 });
    const given = ['127.0.3.1', '127.0.3.2', '127.0.3.3'];
    let peak = 0;
    const seen = new Set<string>();
    const timer = setInterval(() => {
      const by = sourcesTo(server.port);
      peak = Math.max(peak, given.reduce((n, a) => n + (by.get(a) ?? 0), 0));
      for (const a of given) if (by.has(a)) seen.add(a);
    }, 200);
    try {
      const r = await runOnce(runSettings('ws', ['--target', server.url, '--clients', '30', '--topics', '1', '--duration', '1500ms', '--warmup', '500ms', '--source-ips', given.join(',')]));
      expect(r.invalidReasons.join('; ')).toBe('');
      expect(r.summary.lost).toBe(0);
      expect(r.config.sourceIpCount).toBe(3);
    } finally {
      clearInterval(timer);
      await server.close();
    }
    // every address used, and all 30 clients' sockets (one each for ws) from them; the generator's
    // own /stats reads leave from 127.0.0.1
    expect([...seen].sort()).toEqual(given);
    expect(peak).toBe(30);
  }, 20_000);

  it('run refuses an address that is not this machine\'s, with every other problem (exit 2)', async () => {
    const r = await pushbench(['run', '--transport', 'ws', '--source-ips', '198.51.100.7', '--clients', '-1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('198.51.100.7 not on this machine\'s interfaces');
    expect(r.stderr).toContain('--clients');
  });

  it('a plan\'s shard takes them as a machine option, into its run settings; a foreign one is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushbench-source-ips-'));
    try {
      const { file } = writePlan(dir, {
        transport: 'ws', workload: 'broadcast', clients: 20, durationMs: 1500, warmupMs: 500, ratePerS: 10, payloadBytes: 64,
        topics: 1, pollIntervalMs: 0, longPollTimeoutMs: 30_000, arrivalRatePerS: 1000, target: 'http://127.0.0.1:9',
      }, 2, 60_000);
      const parsed = parseShardArgs(['--plan', file, '--shard', '1', '--source-ips', '127.0.4.0/29'], {});
      if (parsed === 'help') throw new Error('help');
      expect(shardSettings(parsed.plan, 1, 0, parsed.local).sourceIps).toEqual(['127.0.4.1', '127.0.4.2', '127.0.4.3', '127.0.4.4', '127.0.4.5', '127.0.4.6']);
      expect(() => parseShardArgs(['--plan', file, '--shard', '1', '--source-ips', '198.51.100.0/30'], {})).toThrow(/198\.51\.100\.1, 198\.51\.100\.2 not on this machine's interfaces/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
