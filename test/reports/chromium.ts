/**
 * A real headless Chromium for the report's browser test, on any machine that ran `npm ci`:
 * `CHROME_PATH` when set, else Debian's `/usr/bin/chromium` when installed, else the Chromium
 * that the @sparticuz/chromium devDependency ships inside its npm package (unpacked to /tmp on
 * first use). The first one found is the one used: a browser that is there but cannot start
 * fails the test with a sentence naming it, never a quiet fallback or skip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Flags for this workplace's closed network: no background connections, no first-run work. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

export interface FoundChromium {
  path: string;
  /** where the path came from, for the test's log and its failure message */
  source: string;
}

/** Which Chromium to use; throws with a sentence when CHROME_PATH names a missing file. */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<FoundChromium> {
  if (env.CHROME_PATH) {
    if (!existsSync(env.CHROME_PATH)) throw new Error(`CHROME_PATH=${env.CHROME_PATH}: no such file (unset it to use /usr/bin/chromium or the one npm ci installs)`);
    return { path: env.CHROME_PATH, source: 'CHROME_PATH' };
  }
  if (existsSync('/usr/bin/chromium')) return { path: '/usr/bin/chromium', source: "the system's /usr/bin/chromium" };
  const { default: npmChromium } = await import('@sparticuz/chromium');
  const version = (JSON.parse(readFileSync(new URL('../../node_modules/@sparticuz/chromium/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  let path: string;
  try {
    path = await npmChromium.executablePath();
  } catch (err) {
    throw new Error(`no /usr/bin/chromium and no CHROME_PATH, and @sparticuz/chromium ${version} could not unpack its Chromium: ${(err as Error).message}`);
  }
  return { path, source: `@sparticuz/chromium ${version} (npm)` };
}

/** Launch the found Chromium headless; a failure names the browser and why. */
export async function launchChromium(found: FoundChromium): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: found.path, args: CHROMIUM_ARGS });
  } catch (err) {
    throw new Error(`Chromium from ${found.source} (${found.path}) did not start: ${(err as Error).message.split('\n')[0]}`);
  }
}
