import { spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { parseProxyArgs } from '../../netem/proxy-main.ts';

describe('proxy-main', () => {
  it('prints its listening line, relays, answers stats over IPC and exits 0 on SIGTERM', async () => {
    const target = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as net.AddressInfo).port;
    const child = spawn(process.execPath, ['--import', 'tsx', 'netem/proxy-main.ts', '--target', `127.0.0.1:${targetPort}`, '--delay', '5', '--jitter', '1ms', '--bandwidth', '1MB'], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const first = (await lines.next()).value as string;
      const m = /^pushbench proxy listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(first);
      expect(m).not.toBeNull();
      const c = net.connect({ host: '127.0.0.1', port: Number(m![1]) });
      c.end('ping');
      const [echo] = await once(c, 'data');
      expect(String(echo)).toBe('ping');
      child.send({ type: 'stats' });
      const [reply] = (await once(child, 'message')) as [{ type: string; stats: { connections: number; bytesUp: number } }];
      expect(reply.type).toBe('stats');
      expect(reply.stats).toMatchObject({ connections: 1, bytesUp: 4 });
      child.kill('SIGTERM');
      const last = JSON.parse((await lines.next()).value as string);
      expect(last).toMatchObject({ type: 'stats', stats: { connections: 1, open: 0 } });
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await new Promise<void>((r) => target.close(() => r()));
    }
  });

  it('lists every bad option', () => {
    expect(parseProxyArgs(['--target', 'nowhere', '--delay', 'soon', '--bandwidth', '0', '--port', '70000'])).toEqual({
      problems: [
        '--target must be HOST:PORT (got "nowhere")',
        '--delay must be a duration such as 25 or 25ms (got "soon")',
        '--bandwidth must be a positive size such as 187500 or 1MB (got "0")',
        '--port must be 0…65535 (got "70000")',
      ],
    });
    expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--delay', '25', '--jitter', '500us'])).toEqual({
      options: { targetHost: '127.0.0.1', targetPort: 8080, host: '127.0.0.1', port: 0, delayMs: 25, jitterMs: 0.5, bandwidthBytesPerS: undefined, maxQueuedBytes: undefined },
    });
  });

  it('takes --link browser, and refuses any other link', () => {
    expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--bandwidth', '1MB', '--link', 'browser'])).toMatchObject({ options: { bandwidthBytesPerS: 1024 * 1024, link: 'browser' } });
    expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--link', 'router'])).toEqual({ problems: ['--link must be connection or browser (got "router")'] });
  });

  it('takes --loss as a probability or a percentage, and refuses one outside (0, 1)', () => {
    expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--loss', '0.01'])).toMatchObject({ options: { lossRate: 0.01 } });
    expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--loss', '0.5%'])).toMatchObject({ options: { lossRate: 0.005 } });
    for (const bad of ['0', '1', '100%', 'some']) {
      expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--loss', bad])).toEqual({ problems: [`--loss must be a probability above 0 and below 1, such as 0.01 or 1% (got "${bad}")`] });
    }
    expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--loss', '1%', '--loss-burst', '3'])).toMatchObject({ options: { lossRate: 0.01, lossBurst: 3 } });
    expect(parseProxyArgs(['--target', '127.0.0.1:8080', '--loss-burst', '0.5'])).toEqual({ problems: [
      '--loss-burst must be a number ≥ 1, the mean segments lost in a row (got "0.5")',
      '--loss-burst needs --loss',
    ] });
  });
});
