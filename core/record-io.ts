/**
 * Result files on disk: atomic writes, and reading a file back with every problem of its shape
 * named (PB_RESULT_FILE, or PB_SCHEMA for a version this pushbench does not read).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { PushbenchError } from './errors.ts';
import { emptyCounters } from './record-counters.ts';
import { OPTIONAL_COUNTERS, SCHEMA, SCHEMA_VERSION, type Counters, type ResultRecord } from './record-schema.ts';

/** Write JSON atomically (see {@link writeTextAtomic}). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Write a text file atomically: a temporary file in the same folder, then rename, so a reader never sees half of it. */
export function writeTextAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Why files could not be written into folder `dir`, or null when they can. Checked on the nearest
 * folder that exists, by creating and removing a probe file there: permission bits say nothing for
 * root, nor under /proc. Makes no folder, so options refused for another reason leave nothing
 * behind; {@link writeTextAtomic} makes the folder when the first file is written.
 */
export function folderProblem(dir: string): string | null {
  let d = resolve(dir);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  try {
    if (!statSync(d).isDirectory()) return `${d} is not a folder`;
    const probe = join(d, `.pushbench-probe.${process.pid}.${Date.now()}`);
    writeFileSync(probe, '', { flag: 'wx' });
    rmSync(probe);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Check that a parsed value is a result record this version reads. Returns the problems found,
 * each naming the field; empty means valid.
 */
export function checkRecord(v: unknown): string[] {
  const problems: string[] = [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['the file is not a JSON object'];
  const o = v as Record<string, unknown>;
  if (o.schema !== SCHEMA) problems.push(`field "schema" is ${JSON.stringify(o.schema)}, expected "${SCHEMA}"`);
  if (typeof o.schemaVersion !== 'number') problems.push('field "schemaVersion" is missing or not a number');
  else if (o.schemaVersion > SCHEMA_VERSION) {
    problems.push(`schema version ${o.schemaVersion} is newer than this pushbench reads (${SCHEMA_VERSION}); upgrade pushbench`);
  } else if (o.schemaVersion < 1) problems.push(`schema version ${o.schemaVersion} is not supported`);
  const objects = ['config', 'environment', 'histograms', 'counters', 'generator', 'summary'] as const;
  for (const k of objects) {
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) problems.push(`field "${k}" is missing or not an object`);
  }
  if (typeof o.name !== 'string') problems.push('field "name" is missing or not a string');
  if (!Array.isArray(o.timeline)) problems.push('field "timeline" is missing or not an array');
  if (typeof o.valid !== 'boolean') problems.push('field "valid" is missing or not a boolean');
  if (problems.length === 0) {
    const h = o.histograms as Record<string, unknown>;
    for (const k of ['deliveryUs', 'connectUs', 'requestUs', 'requestRawUs']) {
      if (typeof h[k] !== 'string') problems.push(`field "histograms.${k}" is missing or not a string`);
    }
    const c = o.counters as Record<string, unknown>;
    for (const k of new Set([...Object.keys(emptyCounters()), ...OPTIONAL_COUNTERS]) as Set<keyof Counters>) {
      if (OPTIONAL_COUNTERS.includes(k) && c[k] === undefined) continue;
      if (k === 'errors') {
        if (typeof c.errors !== 'object' || c.errors === null || Array.isArray(c.errors)) problems.push('field "counters.errors" is missing or not an object');
      } else if (typeof c[k] !== 'number') problems.push(`field "counters.${k}" is missing or not a number`);
    }
    const cfg = o.config as Record<string, unknown>;
    if (typeof cfg.transport !== 'string') problems.push('field "config.transport" is missing or not a string');
    if (typeof cfg.clients !== 'number') problems.push('field "config.clients" is missing or not a number');
    (o.timeline as unknown[]).forEach((p, i) => {
      if (typeof p !== 'object' || p === null || Array.isArray(p)) problems.push(`field "timeline[${i}]" is not an object`);
      else if (typeof (p as { tS?: unknown }).tS !== 'number') problems.push(`field "timeline[${i}].tS" is missing or not a number`);
      else if ('deliveryUs' in p && typeof (p as { deliveryUs?: unknown }).deliveryUs !== 'string') problems.push(`field "timeline[${i}].deliveryUs" is not a string`);
    });
  }
  return problems;
}

/** Read and check one result file; throws PB_RESULT_FILE / PB_SCHEMA naming the file. */
export function readResultFile(path: string): ResultRecord {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PushbenchError('PB_RESULT_FILE', `${path}: cannot read the file (${(err as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new PushbenchError('PB_RESULT_FILE', `${path}: not valid JSON (${(err as Error).message}); the file may be truncated`);
  }
  const problems = checkRecord(v);
  if (problems.length > 0) {
    const schemaProblem = problems.some((p) => p.includes('schema version'));
    throw new PushbenchError(schemaProblem ? 'PB_SCHEMA' : 'PB_RESULT_FILE', `${path}: not a pushbench result file:\n${problems.map((p) => `  - ${p}`).join('\n')}`, problems);
  }
  return v as ResultRecord;
}
