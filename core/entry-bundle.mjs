/**
 * A TypeScript entry as cached JavaScript (esbuild), so a process starts on bare node instead of
 * through tsx's loader — the loader's start is most of a short process's start: the reference
 * server, the latency proxy and the worker threads a run starts, and the `pushbench` command
 * itself (bin/pushbench.js). Plain JavaScript, so the command can use it before any loader.
 *
 * The bundle is rebuilt when any file in it changed (size or mtime), so an edited source is never
 * run stale. Inside it, each module's `import.meta.url` is its source file's URL (paths resolved
 * from it, `createRequire`, a cluster worker's script), except the entry's own: its "am I the main
 * module" check compares it with `process.argv[1]`, the bundle. Packages stay external, resolved
 * from the bundle's folder inside the repository. On any failure, or with PUSHBENCH_NO_BUNDLE
 * set (stack traces with source lines), the caller runs the source through tsx.
 *
 * `split`: every dynamic `import()` of a source becomes a chunk of its own, loaded when called —
 * with the packages it imports. One file would hoist every package import of every lazily
 * loaded command to its top (the command would load vega to print its help). Files are named by
 * their content's hash and never overwritten, so a process still running an older build finds its
 * chunks; files no build has used for a day are removed.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CACHE = join(ROOT, '.tmp', 'bundles');
/** Bump when the bundle's form changes, so older caches are rebuilt. */
const FORMAT = 2;
const DAY_MS = 86_400_000;

/**
 * Path of `entry`'s bundle (with `split`, of its entry file), built or rebuilt as needed; null
 * when it cannot be (run it through tsx).
 * @param {string} entry
 * @param {{ split?: boolean }} [opts]
 * @returns {Promise<string | null>}
 */
export async function entryBundle(entry, opts = {}) {
  if (process.env.PUSHBENCH_NO_BUNDLE) return null;
  const name = relative(ROOT, entry).replace(/[\\/]/g, '_').replace(/\.ts$/, '');
  const manifestPath = join(CACHE, `${name}.json`);
  try {
    const built = freshOutput(manifestPath);
    if (built) return built;
    return await build(entry, name, manifestPath, Boolean(opts.split));
  } catch {
    return null;
  }
}

/** The manifest's output when every source it was built from is unchanged, else null. */
function freshOutput(manifestPath) {
  let m;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return null;
  }
  if (m.format !== FORMAT || m.node !== process.version) return null;
  const same = m.inputs.every((i) => {
    try {
      const st = statSync(join(ROOT, i.path));
      return st.size === i.size && st.mtimeMs === i.mtimeMs;
    } catch {
      return false;
    }
  });
  return same ? join(CACHE, m.output) : null;
}

/** A file of the bundle (relative to the repository) as the manifest records it. */
function watched(path) {
  const st = statSync(join(ROOT, path));
  return { path, size: st.size, mtimeMs: st.mtimeMs };
}

async function build(entry, name, manifestPath, split) {
  const esbuild = await import('esbuild');
  const inputs = [];
  const outdir = join(CACHE, name);
  const result = await esbuild.build({
    entryPoints: [entry], absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', write: false, logLevel: 'silent', metafile: true,
    ...(split ? { splitting: true, outdir, entryNames: '[name]-[hash]', chunkNames: 'chunk-[hash]' } : {}),
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
  mkdirSync(split ? outdir : CACHE, { recursive: true });
  // write then rename: a process starting meanwhile reads the old file or the new, never half
  for (const f of result.outputFiles) writeAtomically(split ? f.path : join(CACHE, `${name}.mjs`), f.contents);
  // the metafile names the output of each entry point, the dynamically imported ones too (paths
  // relative to the working dir)
  const entryOut = split ? join(ROOT, Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === relative(ROOT, entry))[0]) : join(CACHE, `${name}.mjs`);
  if (split) pruneUnused(outdir, new Set(result.outputFiles.map((f) => basename(f.path))));
  writeAtomically(manifestPath, JSON.stringify({ format: FORMAT, node: process.version, output: relative(CACHE, entryOut), inputs }));
  return entryOut;
}

function writeAtomically(path, contents) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/** Remove the files of older builds that are a day old (a process may still be running one). */
function pruneUnused(outdir, used) {
  for (const f of readdirSync(outdir)) {
    if (used.has(f)) continue;
    const path = join(outdir, f);
    if (Date.now() - statSync(path).mtimeMs > DAY_MS) rmSync(path, { force: true });
  }
}
