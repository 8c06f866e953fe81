/**
 * The browser page in Debian's Chromium (playwright-core, never a downloaded browser): v86 boots
 * the test guest in the tab with our device, and the canvas shows the guest's /dev/fb0 pattern,
 * exactly. Outside CI a missing Chromium, guest or built page skips with a message; in CI it fails.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PageServer, pageDir, servePage } from '../src/node.js';
import { GUEST_DIR, patternMismatches } from '../../../test/guest-v86/pattern.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const kernel = join(GUEST_DIR, 'bzImage');
const initrd = join(GUEST_DIR, 'initrd.cpio.gz');
const missing = [
  [CHROMIUM, 'Chromium (apt-get install chromium)'],
  [kernel, 'the guest (test/guest-v86/build.sh)'],
  [join(pageDir(), 'index.html'), 'the built page (pnpm build)'],
].filter(([f]) => !existsSync(f)).map(([, what]) => what);
if (missing.length > 0 && process.env.CI) throw new Error(`v86 page test needs ${missing.join(', ')}`);
if (missing.length > 0) console.warn(`v86 page test skipped: missing ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('the v86 page in Chromium', () => {
  let server: PageServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await servePage({ kernel, initrd });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('boots Linux in the tab, and the canvas shows the guest\'s pattern', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?mode=test`);
    const t0 = Date.now();
    await page.waitForFunction(() => (window as unknown as { v86gpu: { serial: string; error: string | null } }).v86gpu?.serial.includes('pattern drawn') || (window as unknown as { v86gpu: { error: string | null } }).v86gpu?.error, undefined, { timeout: 240_000, polling: 500 });
    console.log(`v86 page: pattern drawn after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await page.evaluate(() => (window as unknown as { v86gpu: { error: string | null } }).v86gpu.error)).toBeNull();
    let bad = -1;
    for (let i = 0; i < 40 && bad !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      const b64 = await page.evaluate(() => {
        const c = document.getElementById('screen') as HTMLCanvasElement;
        if (c.width !== 1024 || c.height !== 768) return '';
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let s = '';
        for (let k = 0; k < d.length; k += 0x8000) s += String.fromCharCode(...d.subarray(k, k + 0x8000));
        return btoa(s);
      });
      bad = b64 === '' ? -1 : patternMismatches(new Uint8Array(Buffer.from(b64, 'base64')), 1024, 768);
    }
    expect(bad).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
