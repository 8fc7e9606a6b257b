/**
 * A small declarative option parser for every command. Unlike util.parseArgs it collects *every*
 * problem (unknown option, bad value, missing value) so the CLI can list them all at once and
 * exit 2, and it generates `--help` from the same table, so help and validation never disagree.
 */
import { PushbenchError } from './errors.ts';
import { parseBytes, parseDurationMs, parseFraction, parseRatePerS } from './units.ts';

export type OptionKind = 'int' | 'number' | 'durationMs' | 'bytes' | 'ratePerS' | 'fraction' | 'string' | 'bool' | 'list';

export interface OptionSpec {
  /** long name without dashes, e.g. `poll-interval` */
  name: string;
  kind: OptionKind;
  help: string;
  /** shown in help and used when absent (in the parsed unit: ms for durations, bytes, per second) */
  default?: number | string | boolean | string[];
  short?: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** for durations: the unit of a bare number (`s` unless said) */
  bareUnit?: 'ms' | 's';
  /** value placeholder in help, e.g. `N`, `30s` */
  arg?: string;
  /** may be given more than once (values collected into an array of strings) */
  repeat?: boolean;
}

export type OptionValues = Record<string, number | string | boolean | string[] | undefined>;

export interface Parsed {
  values: OptionValues;
  positionals: string[];
  problems: string[];
  help: boolean;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function convert(spec: OptionSpec, raw: string): { value?: OptionValues[string]; problem?: string } {
  const opt = `--${spec.name}`;
  let v: number | undefined;
  switch (spec.kind) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) {
        return { problem: `${opt} must be one of ${spec.choices.join(', ')} (got "${raw}")` };
      }
      return { value: raw };
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) return { problem: `${opt} needs at least one value` };
      const bad = spec.choices ? items.filter((i) => !spec.choices!.includes(i)) : [];
      if (bad.length) return { problem: `${opt}: ${bad.join(', ')} not one of ${spec.choices!.join(', ')}` };
      return { value: items };
    }
    case 'bool':
      if (['true', '1', 'yes'].includes(raw)) return { value: true };
      if (['false', '0', 'no'].includes(raw)) return { value: false };
      return { problem: `${opt} takes no value or true/false (got "${raw}")` };
    case 'int':
      v = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : undefined;
      if (v === undefined) return { problem: `${opt} must be a whole number (got "${raw}")` };
      break;
    case 'number':
      v = raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
      if (v === undefined) return { problem: `${opt} must be a number (got "${raw}")` };
      break;
    case 'durationMs':
      v = parseDurationMs(raw, spec.bareUnit ?? 's');
      if (v === undefined) return { problem: `${opt} must be a duration like 30s, 250ms or 2m (got "${raw}")` };
      break;
    case 'bytes':
      v = parseBytes(raw);
      if (v === undefined) return { problem: `${opt} must be a size like 64 or 10KB (got "${raw}")` };
      break;
    case 'ratePerS':
      v = parseRatePerS(raw);
      if (v === undefined) return { problem: `${opt} must be a rate like 500/s or 10 (got "${raw}")` };
      break;
    case 'fraction':
      v = parseFraction(raw);
      if (v === undefined) return { problem: `${opt} must be a percentage like 5% (got "${raw}")` };
      break;
  }
  if (spec.min !== undefined && v! < spec.min) return { problem: `${opt} must be at least ${spec.min} (got ${raw})` };
  if (spec.max !== undefined && v! > spec.max) return { problem: `${opt} must be at most ${spec.max} (got ${raw})` };
  return { value: v };
}

/**
 * Parse argv against the specs. `--name value`, `--name=value`, `-s value`; booleans take no value
 * (or `=false`). Values come back keyed in camelCase (`poll-interval` → `pollInterval`), with
 * defaults filled in. Never throws.
 */
export function parseOptions(argv: string[], specs: readonly OptionSpec[]): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values: OptionValues = {};
  const positionals: string[] = [];
  const problems: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { help = true; continue; }
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq > 0 ? a.slice(eq + 1) : undefined;
      spec = byName.get(name);
      if (!spec) { problems.push(`unknown option --${name}${suggest(name, specs)}`); continue; }
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      spec = byShort.get(a.slice(1));
      if (!spec) { problems.push(`unknown option ${a}`); continue; }
    } else {
      positionals.push(a);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (spec.kind === 'bool') raw = 'true';
      else if (i + 1 < argv.length && !(argv[i + 1].startsWith('--') && argv[i + 1].length > 2)) raw = argv[++i];
      else { problems.push(`--${spec.name} needs a value${spec.arg ? ` (${spec.arg})` : ''}`); continue; }
    }
    const { value, problem } = convert(spec, raw);
    if (problem) { problems.push(problem); continue; }
    const key = camel(spec.name);
    if (spec.repeat) values[key] = [...((values[key] as string[] | undefined) ?? []), String(value)];
    else values[key] = value;
  }
  for (const s of specs) {
    const key = camel(s.name);
    if (values[key] === undefined && s.default !== undefined) values[key] = s.default;
  }
  return { values, positionals, problems, help };
}

function suggest(name: string, specs: readonly OptionSpec[]): string {
  const close = specs.find((s) => s.name.startsWith(name.slice(0, 3)) || name.startsWith(s.name.slice(0, 4)));
  return close ? ` (did you mean --${close.name}?)` : '';
}

function formatDefault(s: OptionSpec): string {
  if (s.default === undefined) return '';
  let d: string;
  if (s.kind === 'durationMs') {
    const ms = s.default as number;
    d = ms % 1000 === 0 && ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
  } else if (s.kind === 'fraction') d = `${(s.default as number) * 100}%`;
  else if (Array.isArray(s.default)) d = s.default.join(',');
  else d = String(s.default);
  return ` (default ${d})`;
}

/** Help text: usage line, description, then one line per option with its default. */
export function formatHelp(usage: string, description: string, specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'bool' ? '' : ` ${s.arg ?? s.kind.replace(/Ms|PerS$/, '').toUpperCase()}`}`;
    const choices = s.choices ? ` [${s.choices.join('|')}]` : '';
    return [flag, `${s.help}${choices}${formatDefault(s)}`] as const;
  });
  const w = Math.min(34, Math.max(...rows.map((r) => r[0].length)) + 2);
  const lines = rows.map(([f, h]) => (f.length + 2 > w ? `  ${f}\n  ${' '.repeat(w)}${h}` : `  ${f.padEnd(w)}${h}`));
  return `usage: ${usage}\n\n${description}\n\noptions:\n${lines.join('\n')}\n  -h, --help${' '.repeat(Math.max(2, w - 10))}show this help\n`;
}

/**
 * A script's or command's settings from `parse`, or the exit code it ends with having printed why:
 * 0 after its help (`parse` returned 'help'), 2 after a {@link PushbenchError} (every problem, one
 * message). Any other error is thrown on.
 */
export function settingsOrExit<T>(parse: () => T | 'help', help: () => string): { settings: T } | { exitCode: number } {
  let v: T | 'help';
  try {
    v = parse();
  } catch (err) {
    if (!(err instanceof PushbenchError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return { exitCode: 2 };
  }
  if (v === 'help') {
    process.stdout.write(help());
    return { exitCode: 0 };
  }
  return { settings: v };
}

/**
 * Parse a command's argv against `specs`: 'help' for --help; else the values and the problems
 * found so far (an unexpected positional argument among them), for the command to add its own.
 */
export function parseCommandArgs(argv: string[], specs: readonly OptionSpec[]): 'help' | { values: OptionValues; problems: string[] } {
  const parsed = parseOptions(argv, specs);
  if (parsed.help) return 'help';
  const problems = [...parsed.problems];
  if (parsed.positionals.length) problems.push(`unexpected argument(s): ${parsed.positionals.join(' ')}`);
  return { values: parsed.values, problems };
}
