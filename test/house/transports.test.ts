/**
 * A transport is named in its own two files only (docs/adding-a-transport.md): the client-side
 * descriptor under load/drivers/ and the server-side one under servers/transports/. Everything
 * else asks the registries. Checked on the TypeScript syntax trees of the source folders: every
 * string literal equal to a registered transport name (module specifiers aside: `ws` is also a
 * package) must stand in one of that transport's own files. bench/ is left out: its peers are
 * transport-specific by design (a bare `ws` client, a bare SSE client, autocannon for short polls).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { TARGET_ONLY_TRANSPORTS, TRANSPORTS } from '../../load/drivers/index.ts';
import { SERVER_TRANSPORTS } from '../../servers/transports/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FOLDERS = ['core', 'servers', 'netem', 'load', 'reports', 'gate', 'capacity', 'dist', 'cli'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) return sourceFiles(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Each string literal of `file` (outside import and export specifiers) with its line. */
function literals(file: string): { text: string; line: number; descriptor: boolean }[] {
  const src = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { text: string; line: number; descriptor: boolean }[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n) || ts.isImportTypeNode(n)) return;
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) return;
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) {
      const p = n.parent;
      // `transport: 'x'` (client descriptor) or `name: 'x'` (server descriptor)
      const descriptor = ts.isPropertyAssignment(p) && ['transport', 'name'].includes(p.name.getText(src));
      out.push({ text: n.text, line: src.getLineAndCharacterOfPosition(n.getStart()).line + 1, descriptor });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

describe('transport names', () => {
  const files = FOLDERS.flatMap(sourceFiles);
  const found = files.map((file) => ({ file, literals: literals(file) }));
  const names = [...new Set([...TRANSPORTS, ...SERVER_TRANSPORTS])];

  it('both sides register the same transports', () => {
    expect([...SERVER_TRANSPORTS].sort()).toEqual([...TRANSPORTS].sort());
  });

  it.each(names)('%s is named only in its own client and server files', (name) => {
    const own = found.filter((f) => f.literals.some((l) => l.text === name && l.descriptor)).map((f) => f.file);
    // exactly one descriptor per side
    expect(own.filter((f) => f.startsWith('load/drivers/')), 'client descriptor').toHaveLength(1);
    expect(own.filter((f) => f.startsWith('servers/transports/')), 'server descriptor').toHaveLength(1);
    const elsewhere = found.flatMap((f) => (own.includes(f.file) ? [] : f.literals.filter((l) => l.text === name).map((l) => `${f.file}:${l.line}`)));
    expect(elsewhere).toEqual([]);
  });

  // Socket.IO's transports run against a Socket.IO server only: a client descriptor, no server side
  it.each(TARGET_ONLY_TRANSPORTS)('%s (target-only) is named only in its own client descriptor', (name) => {
    const own = found.filter((f) => f.literals.some((l) => l.text === name && l.descriptor)).map((f) => f.file);
    expect(own.filter((f) => f.startsWith('load/drivers/')), 'client descriptor').toHaveLength(1);
    expect(own.filter((f) => !f.startsWith('load/drivers/')), 'elsewhere as a descriptor').toEqual([]);
    const elsewhere = found.flatMap((f) => (own.includes(f.file) ? [] : f.literals.filter((l) => l.text === name).map((l) => `${f.file}:${l.line}`)));
    expect(elsewhere).toEqual([]);
  });
});
