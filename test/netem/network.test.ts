import { describe, expect, it } from 'vitest';
import { NETWORK_PROFILES, parseBandwidthBytesPerS, parseNetworks } from '../../netem/network.ts';

describe('network profiles', () => {
  it('has frozen built-in profiles with loopback unproxied', () => {
    expect(Object.isFrozen(NETWORK_PROFILES)).toBe(true);
    expect(Object.isFrozen(NETWORK_PROFILES.wan)).toBe(true);
    expect(NETWORK_PROFILES.loopback.proxied).toBe(false);
    expect(NETWORK_PROFILES.wan).toMatchObject({ delayMs: 25, jitterMs: 2, bandwidthBytesPerS: null });
    expect(NETWORK_PROFILES.mobile.bandwidthBytesPerS).toBe(1.5e6 / 8);
  });

  it('parses a list of named profiles in order', () => {
    const r = parseNetworks('loopback,wan');
    expect(r.problems).toEqual([]);
    expect(r.profiles.map((p) => p.name)).toEqual(['loopback', 'wan']);
  });

  it('parses custom profiles among named ones, with a canonical name that parses back', () => {
    const r = parseNetworks('loopback,delay=40ms,jitter=5ms,bw=1MB,mobile,delay=2');
    expect(r.problems).toEqual([]);
    expect(r.profiles.map((p) => p.name)).toEqual(['loopback', 'delay=40ms,jitter=5ms,bw=1048576B/s', 'mobile', 'delay=2ms']);
    expect(r.profiles[1]).toMatchObject({ proxied: true, delayMs: 40, jitterMs: 5, bandwidthBytesPerS: 1_048_576 });
    expect(parseNetworks(r.profiles[1].name).profiles[0]).toEqual(r.profiles[1]);
  });

  it('takes link=browser with a bandwidth, in the canonical name', () => {
    const r = parseNetworks('delay=25ms,bw=10Mbit,link=browser,delay=25ms,bw=10Mbit,link=connection');
    expect(r.problems).toEqual([]);
    expect(r.profiles.map((p) => p.name)).toEqual(['delay=25ms,bw=1250000B/s,link=browser', 'delay=25ms,bw=1250000B/s']);
    expect(r.profiles[0]).toMatchObject({ bandwidthBytesPerS: 1_250_000, link: 'browser' });
    expect(r.profiles[1].link).toBeUndefined();
    expect(parseNetworks(r.profiles[0].name).profiles[0]).toEqual(r.profiles[0]);
    expect(parseNetworks('delay=25ms,link=browser,delay=5ms,link=router').problems).toEqual([
      'link=browser shares a link\'s bandwidth among a browser\'s connections: give bw=… (e.g. bw=10Mbit)',
      'link=router: a link is per connection or per browser (write link=browser)',
    ]);
  });

  it('takes loss=P % in the canonical name, and refuses one outside (0, 100) % with every problem', () => {
    const r = parseNetworks('delay=25ms,jitter=2ms,bw=1250000,link=browser,loss=1%,delay=25ms,loss=0.50%');
    expect(r.problems).toEqual([]);
    expect(r.profiles.map((p) => p.name)).toEqual(['delay=25ms,jitter=2ms,bw=1250000B/s,link=browser,loss=1%', 'delay=25ms,loss=0.5%']);
    expect(r.profiles[0]).toMatchObject({ link: 'browser', lossRate: 0.01 });
    expect(parseNetworks(r.profiles[1].name).profiles[0]).toEqual(r.profiles[1]);
    // without loss= the profile has none (and its name stays apart from the lossy one's)
    expect(parseNetworks('delay=25ms').profiles[0].lossRate).toBeUndefined();
    const why = (v: string) => `loss=${v}: a loss is a percentage above 0 and below 100 (write e.g. loss=1%)`;
    expect(parseNetworks('delay=5ms,loss=0%,delay=6ms,loss=100%,delay=7ms,loss=0.01,delay=8ms,loss=lots').problems).toEqual(
      ['0%', '100%', '0.01', 'lots'].map(why));
  });

  it('takes burst=B with loss= in the canonical name; refuses one below 1, or without loss=', () => {
    const r = parseNetworks('delay=25ms,bw=1250000,link=browser,loss=1%,burst=3');
    expect(r.problems).toEqual([]);
    expect(r.profiles[0]).toMatchObject({ name: 'delay=25ms,bw=1250000B/s,link=browser,loss=1%,burst=3', lossRate: 0.01, lossBurst: 3 });
    expect(parseNetworks(r.profiles[0].name).profiles[0]).toEqual(r.profiles[0]);
    expect(parseNetworks('delay=25ms,loss=1%').profiles[0].lossBurst).toBeUndefined();
    expect(parseNetworks('delay=5ms,loss=1%,burst=0.5,delay=6ms,burst=2').problems).toEqual([
      'burst=0.5: a burst is the mean number of segments lost in a row, a number ≥ 1 (write e.g. burst=3)',
      'burst= shapes the losses of loss=…: give loss=… too (e.g. loss=1%,burst=3)',
    ]);
  });

  it('reads bandwidth in bytes or bits', () => {
    expect(parseBandwidthBytesPerS('1.5Mbit')).toBe(187_500);
    expect(parseBandwidthBytesPerS('64KB/s')).toBe(65_536);
    expect(parseBandwidthBytesPerS('0')).toBeUndefined();
    expect(parseBandwidthBytesPerS('fast')).toBeUndefined();
  });

  it('reports every problem at once', () => {
    const r = parseNetworks('lan,moon,delay=abc,jitter=5ms,colour=red,,wan,wan,jitter=9ms,delay=3ms');
    expect(r.profiles).toEqual([]);
    expect(r.problems).toEqual([
      'unknown network "moon" (use loopback, lan, wan, mobile, or delay=40ms,jitter=5ms,bw=1MB)',
      'delay=abc: not a duration (write e.g. delay=25ms)',
      'colour=red: unknown network setting "colour" (use delay, jitter, bw, link, loss, burst)',
      'empty network name in "lan,moon,delay=abc,jitter=5ms,colour=red,,wan,wan,jitter=9ms,delay=3ms"',
      'jitter 9ms exceeds delay 3ms; jitter must not exceed the delay',
      'network "wan" is listed twice',
    ]);
    expect(parseNetworks('jitter=1ms').problems).toEqual(['a custom network needs delay=… (e.g. delay=40ms)']);
  });
});
