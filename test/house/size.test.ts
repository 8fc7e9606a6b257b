/**
 * The house's size limits hold (issue "A house anyone can walk"): no source file outside test/
 * over 400 lines, and no function over 80 lines unless a `// long: <why>` comment stands right
 * above it. Functions are every function-like node with a body (declarations, methods,
 * constructors, accessors, function expressions, arrows), found with the TypeScript parser on the
 * real source tree; a function's lines run from its first token to its closing brace.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_FOLDERS = ['core', 'servers', 'netem', 'load', 'reports', 'gate', 'capacity', 'dist', 'cli', 'bench'];
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
/** What a long function's reason must start with, on a comment line right above it. */
const LONG_MARK = '// long:';

/**
 * The only offenders allowed, each with its reason: a file (`fn` absent: its length) or one
 * function of a file, by name. Remove an entry once it is fixed; the last test below fails while
 * an entry matches nothing, so none stays behind.
 */
const KNOWN_EXCEPTIONS: readonly { file: string; fn?: string; reason: string }[] = [
];

interface Offender {
  file: string;
  line: number;
  /** the function's name; absent for a whole file */
  fn?: string;
  lines: number;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile() && e.name.endsWith('.ts')) out.push(relative(ROOT, path).split('\\').join('/'));
    }
  };
  for (const folder of SOURCE_FOLDERS) walk(join(ROOT, folder));
  return out.sort();
}

function lineCount(text: string): number {
  return text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** A readable name for a function node: its own, else the variable or property it is assigned to. */
function nameOf(n: ts.SignatureDeclaration): string {
  if (ts.isConstructorDeclaration(n)) return 'constructor';
  if (n.name) return n.name.getText();
  const p = n.parent;
  if ((ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) return p.name.getText();
  return '(anonymous)';
}

/** True when the comment lines right above line `at` (0-based; no blank line between) hold a `// long:` reason. */
function hasLongReason(lines: readonly string[], at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    const t = lines[i].trim();
    const isComment = t.startsWith('//') || t.startsWith('/*') || t.startsWith('*');
    if (!isComment) return false;
    if (t.startsWith(LONG_MARK) && t.slice(LONG_MARK.length).trim().length >= 10) return true;
  }
  return false;
}

function longFunctions(file: string, text: string): Offender[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const out: Offender[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).body) {
      const first = src.getLineAndCharacterOfPosition(n.getStart(src)).line;
      const last = src.getLineAndCharacterOfPosition(n.end).line;
      const length = last - first + 1;
      if (length > MAX_FUNCTION_LINES && !hasLongReason(lines, first)) out.push({ file, line: first + 1, fn: nameOf(n), lines: length });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

function describeOffender(o: Offender): string {
  return o.fn === undefined
    ? `${o.file}: ${o.lines} lines (limit ${MAX_FILE_LINES})`
    : `${o.file}:${o.line} ${o.fn}: ${o.lines} lines (limit ${MAX_FUNCTION_LINES}, or a "${LONG_MARK} <why>" comment right above it)`;
}

const isKnown = (o: Offender) => KNOWN_EXCEPTIONS.some((k) => k.file === o.file && k.fn === o.fn);

function allOffenders(): { files: number; offenders: Offender[] } {
  const files = sourceFiles();
  const offenders: Offender[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const n = lineCount(text);
    if (n > MAX_FILE_LINES) offenders.push({ file, line: 1, lines: n });
    offenders.push(...longFunctions(file, text));
  }
  return { files: files.length, offenders };
}

describe('sizes', () => {
  const { files, offenders } = allOffenders();

  it('sees the source tree', () => {
    // a wrong root or folder list would read nothing and pass
    expect(files).toBeGreaterThan(100);
  });

  it(`no source file over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES} lines without a reason`, () => {
    expect(offenders.filter((o) => !isKnown(o)).map(describeOffender)).toEqual([]);
  });

  it('every known exception is still needed (remove the entries that match nothing)', () => {
    const stale = KNOWN_EXCEPTIONS.filter((k) => !offenders.some((o) => o.file === k.file && o.fn === k.fn));
    expect(stale.map((k) => `${k.file}${k.fn ? ` ${k.fn}` : ''}: ${k.reason}`)).toEqual([]);
  });
});
