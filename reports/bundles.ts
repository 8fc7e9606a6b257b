/**
 * The browser bundles of vega, vega-lite and vega-embed, read from node_modules so report.html can
 * inline them (it must open from file:// with no network). Read once per process and cached.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Bundle {
  name: string;
  /** the minified UMD script text (defines a global: vega, vegaLite, vegaEmbed) */
  code: string;
}

/** Package → its UMD bundle, relative to the folder of the package's main entry (`build/`). */
const BUNDLES: readonly [string, string][] = [
  ['vega', 'vega.min.js'],
  ['vega-lite', 'vega-lite.min.js'],
  ['vega-embed', 'vega-embed.min.js'],
];

let cached: Bundle[] | undefined;

/** The three bundles in load order (vega first: the others use its global). Reads the disk once. */
export function vegaBundles(): Bundle[] {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = BUNDLES.map(([name, file]) => ({ name, code: readFileSync(join(dirname(require.resolve(name)), file), 'utf8') }));
  }
  return cached;
}
