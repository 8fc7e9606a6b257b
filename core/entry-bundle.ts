/**
 * A child process's TypeScript entry as one cached JavaScript bundle (esbuild), so a run's
 * reference server and latency proxy start on bare node instead of through tsx's loader — the
 * loader's start is most of a child's start, and a run pays it for every server it starts.
 *
 * The bundle is rebuilt when any file in it changed (size or mtime), so an edited source is never
 * run stale. Inside it, each module's `import.meta.url` is its source file's URL (paths resolved
 * from it, `createRequire`, a cluster worker's script), except the entry's own: its "am I the main
 * module" check compares it with `process.argv[1]`, the bundle. Packages stay external, resolved
 * from the bundle's folder inside the repository. On any failure, or with PUSHBENCH_NO_BUNDLE
 * set (stack traces with source lines), the caller runs the source through tsx.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CACHE = join(ROOT, '.tmp', 'bundles');
/** Bump when the bundle's form changes, so older caches are rebuilt. */
const FORMAT = 1;

interface Manifest {
  format: number;
  node: string;
  /** every source in the bundle, relative to the repository, with what it was built from */
  inputs: { path: string; size: number; mtimeMs: number }[];
}

/** Path of `entry`'s bundle, built or rebuilt as needed; null when it cannot be (run it through tsx). */
export async function entryBundle(entry: string): Promise<string | null> {
  if (process.env.PUSHBENCH_NO_BUNDLE) return null;
  const name = relative(ROOT, entry).replace(/[\\/]/g, '_').replace(/\.ts$/, '');
  const out = join(CACHE, `${name}.mjs`);
  const manifestPath = join(CACHE, `${name}.json`);
  try {
    if (fresh(manifestPath)) return out;
    await build(entry, out, manifestPath);
    return out;
  } catch {
    return null;
  }
}

function fresh(manifestPath: string): boolean {
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    return false;
  }
  if (m.format !== FORMAT || m.node !== process.version) return false;
  return m.inputs.every((i) => {
    try {
      const st = statSync(join(ROOT, i.path));
      return st.size === i.size && st.mtimeMs === i.mtimeMs;
    } catch {
      return false;
    }
  });
}

/** A file of the bundle (relative to the repository) as the manifest records it. */
function watched(path: string): Manifest['inputs'][number] {
  const st = statSync(join(ROOT, path));
  return { path, size: st.size, mtimeMs: st.mtimeMs };
}

async function build(entry: string, out: string, manifestPath: string): Promise<void> {
  const esbuild = await import('esbuild');
  const inputs: Manifest['inputs'] = [];
  const result = await esbuild.build({
    entryPoints: [entry], absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', write: false, logLevel: 'silent', metafile: true,
    plugins: [{
      name: 'source-import-meta-url',
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, (args) => {
          inputs.push(watched(relative(ROOT, args.path)));
          const source = readFileSync(args.path, 'utf8');
          const contents = args.path === entry ? source : source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
          return { contents, loader: 'ts' };
        });
      },
    }],
  });
  // any other file of ours in the bundle (JSON, JS) is watched too
  for (const path of Object.keys(result.metafile.inputs)) {
    if (inputs.some((i) => i.path === path)) continue;
    inputs.push(watched(path));
  }
  mkdirSync(CACHE, { recursive: true });
  // write then rename: a process starting meanwhile reads the old bundle or the new, never half
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, result.outputFiles[0].contents);
  renameSync(tmp, out);
  const manifest: Manifest = { format: FORMAT, node: process.version, inputs };
  writeFileSync(`${manifestPath}.${process.pid}.tmp`, JSON.stringify(manifest));
  renameSync(`${manifestPath}.${process.pid}.tmp`, manifestPath);
}
