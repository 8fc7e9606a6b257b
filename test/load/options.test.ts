import { describe, expect, it } from 'vitest';
import { formatHelp, parseOptions, type OptionSpec } from '../../load/options.ts';

const specs: OptionSpec[] = [
  { name: 'clients', kind: 'int', help: 'clients', default: 100, min: 1 },
  { name: 'duration', kind: 'durationMs', help: 'length', default: 30_000 },
  { name: 'poll-interval', kind: 'durationMs', bareUnit: 'ms', help: 'period', default: 250 },
  { name: 'transport', kind: 'string', help: 'transport', choices: ['ws', 'sse'] },
  { name: 'quiet', kind: 'bool', help: 'quiet' },
  { name: 'network', kind: 'list', help: 'networks', default: ['loopback'] },
];

describe('parseOptions', () => {
  it('parses every form and fills defaults in camelCase', () => {
    const p = parseOptions(['--clients', '2000', '--duration=10s', '--transport', 'ws', '--quiet', '--network', 'loopback,wan', 'file.json'], specs);
    expect(p.problems).toEqual([]);
    expect(p.values).toMatchObject({ clients: 2000, duration: 10_000, pollInterval: 250, transport: 'ws', quiet: true, network: ['loopback', 'wan'] });
    expect(p.positionals).toEqual(['file.json']);
  });
  it('lists every problem at once', () => {
    const p = parseOptions(['--clients', '0', '--duration', 'soon', '--transport', 'smoke', '--bogus', '1', '--poll-interval'], specs);
    expect(p.problems).toHaveLength(5);
    expect(p.problems.join('\n')).toMatch(/--clients must be at least 1/);
    expect(p.problems.join('\n')).toMatch(/--duration must be a duration/);
    expect(p.problems.join('\n')).toMatch(/--transport must be one of ws, sse/);
    expect(p.problems.join('\n')).toMatch(/unknown option --bogus/);
    expect(p.problems.join('\n')).toMatch(/--poll-interval needs a value/);
  });
  it('generates help with defaults from the same table', () => {
    const h = formatHelp('pushbench x', 'does x', specs);
    expect(h).toMatch(/--clients N?.*\(default 100\)/);
    expect(h).toMatch(/--duration .*\(default 30s\)/);
    expect(h).toMatch(/--poll-interval .*\(default 250ms\)/);
    expect(h).toMatch(/\[ws\|sse\]/);
  });
});
