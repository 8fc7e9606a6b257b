import { describe, expect, it, vi } from 'vitest';
import { validationError } from '../../core/errors.ts';
import { formatHelp, parseOptions, settingsOrExit, type OptionSpec } from '../../core/options.ts';

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

describe('settingsOrExit', () => {
  it('gives the settings, or prints the help (0) or every problem (2); any other error is thrown on', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(settingsOrExit(() => ({ clients: 3 }), () => 'HELP')).toEqual({ settings: { clients: 3 } });
      expect(out).not.toHaveBeenCalled();
      expect(settingsOrExit(() => 'help' as const, () => 'usage: x\n')).toEqual({ exitCode: 0 });
      expect(out).toHaveBeenCalledWith('usage: x\n');
      const bad = () => {
        throw validationError(['--clients must be at least 1', '--duration is not a duration'], 'x: invalid options');
      };
      expect(settingsOrExit(bad, () => 'HELP')).toEqual({ exitCode: 2 });
      const printed = err.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toMatch(/--clients must be at least 1/);
      expect(printed).toMatch(/--duration is not a duration/);
      expect(() => settingsOrExit(() => { throw new TypeError('a bug'); }, () => 'HELP')).toThrow(TypeError);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});
