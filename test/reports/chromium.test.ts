import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findChromium } from './chromium.ts';

describe('which Chromium the browser test uses', () => {
  it('CHROME_PATH first, when it names a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pb-chrome-')), 'chrome');
    writeFileSync(file, '');
    expect(await findChromium({ CHROME_PATH: file })).toEqual({ path: file, source: 'CHROME_PATH' });
  });

  it('a CHROME_PATH that names no file is an error with a sentence, not a fallback', async () => {
    await expect(findChromium({ CHROME_PATH: '/nonexistent/chrome' })).rejects.toThrow('CHROME_PATH=/nonexistent/chrome: no such file');
  });
});
