/**
 * The viewer page in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser). Outside CI a missing Chromium skips these tests with a message; in CI
 * (process.env.CI set) it fails them, so a broken image cannot pass silently.
 * Set VIEWER_SCREENSHOT=/path.png to keep a screenshot of the test pattern.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Display } from './display.js';
import { FakeSource } from './testing/fake-source.js';
import { startViewer, type Viewer } from './viewer.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = Boolean(process.env.CI);
if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`viewer browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); in CI they fail instead`);
}

const info = (width: number, height: number) => ({ resourceId: 1, width, height, r: { x: 0, y: 0, width, height } });

/** Colour bars over a grey ramp with a grid: easy to eyeball, every row different. */
function paintPattern(source: FakeSource, id: number, width: number, height: number, hue: number): void {
  const fb = source.setScanout(id, width, height);
  const bars: [number, number, number][] = [
    [192, 192, 192], [192, 192, 0], [0, 192, 192], [0, 192, 0], [192, 0, 192], [192, 0, 0], [0, 0, 192],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let rgb: [number, number, number];
      if (y < (height * 2) / 3) rgb = bars[Math.floor((x * bars.length) / width)];
      else {
        const v = Math.round((x * 255) / (width - 1));
        rgb = [v, (v + hue) & 255, 255 - v];
      }
      if (x % 32 === 0 || y % 32 === 0) rgb = [40, 40, 40];
      fb.set([...rgb, 255], (y * width + x) * 4);
    }
  }
}

/** A 64x64 arrow pointer, white with a black outline, tip at (0, 0). */
function arrowCursor(): Uint8Array {
  const img = new Uint8Array(64 * 64 * 4);
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x <= y * 0.6; x++) {
      const edge = x === 0 || x >= Math.floor(y * 0.6) || y === 19;
      img.set(edge ? [0, 0, 0, 255] : [255, 255, 255, 255], (y * 64 + x) * 4);
    }
  }
  return img;
}

/** The fb canvas of a scanout read back with getImageData, as bytes. */
async function canvasPixels(page: Page, id: number): Promise<Uint8Array> {
  const b64 = await page.evaluate((scanoutId) => {
    const c = document.querySelector<HTMLCanvasElement>(`canvas.fb[data-scanout="${scanoutId}"]`);
    if (!c) return '';
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return btoa(s);
  }, id);
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** Polls until the canvas equals the surface; returns whether it did. */
async function canvasMatches(page: Page, display: Display, id: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const px = await canvasPixels(page, id);
    if (Buffer.compare(px, display.surface(id)!.data) === 0) return true;
    if (Date.now() > deadline) return false;
    await page.waitForTimeout(50);
  }
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('viewer in Chromium', () => {
  let browser: Browser;
  let viewer: Viewer | null = null;
  let page: Page;
  let source: FakeSource;
  let display: Display;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI requires Chromium at ${CHROMIUM} (apt-get install chromium)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await page?.close();
    await viewer?.close();
    await browser?.close();
  });

  async function open(): Promise<void> {
    source = new FakeSource();
    display = new Display({ source });
    paintPattern(source, 0, 320, 200, 0);
    paintPattern(source, 1, 200, 150, 128);
    display.scanoutChanged(0, info(320, 200));
    display.scanoutChanged(1, info(200, 150));
    display.cursorChanged({ scanoutId: 0, x: 100, y: 60, hotX: 0, hotY: 0, resourceId: 9, image: arrowCursor() });
    viewer = await startViewer({ display, port: 0 });
    page = await browser.newPage({ viewport: { width: 1000, height: 420 } });
    pageErrors.length = 0;
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${viewer.url}?zoom=1`);
    await page.waitForFunction(() => (window as unknown as { __viewer: { frames: number } }).__viewer.frames >= 2);
  }

  // One page for the whole suite (a launch per test costs seconds); tests run in order and each
  // leaves the page at 1x zoom.
  beforeAll(async () => {
    await open();
  });

  it('first frames -> canvases equal the surfaces byte for byte, one labelled figure per scanout', async () => {
    expect(await canvasMatches(page, display, 0)).toBe(true);
    expect(await canvasMatches(page, display, 1)).toBe(true);
    const captions = await page.locator('figcaption').allTextContents();
    expect(captions).toHaveLength(2);
    expect(captions[0]).toMatch(/^Scanout 0 · 320×200 · \d+ fps$/);
    expect(captions[1]).toMatch(/^Scanout 1 · 200×150 · \d+ fps$/);
    await expect.poll(() => page.locator('#status').textContent()).toBe('connected');
    expect(pageErrors).toEqual([]);
  });

  it('damage -> canvas updates to the new pixels', async () => {
    const before = await page.evaluate(() => (window as unknown as { __viewer: { frames: number } }).__viewer.frames);
    source.fill(0, { x: 50, y: 40, width: 60, height: 30 }, [255, 0, 128, 255]);
    display.flushed(0, { x: 50, y: 40, width: 60, height: 30 });
    await page.waitForFunction((n) => (window as unknown as { __viewer: { frames: number } }).__viewer.frames > n, before);
    expect(await canvasMatches(page, display, 0)).toBe(true);
    const px = await canvasPixels(page, 0);
    const i = (45 * 320 + 60) * 4;
    expect([...px.subarray(i, i + 4)]).toEqual([255, 0, 128, 255]);
  });

  it('resize -> canvas takes the new size and pixels', async () => {
    paintPattern(source, 1, 120, 90, 60);
    display.scanoutChanged(1, info(120, 90));
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('canvas.fb[data-scanout="1"]')?.width === 120);
    expect(await canvasMatches(page, display, 1)).toBe(true);
  });

  it('cursor -> overlay at (x - hotX, y - hotY) with the cursor image; moves follow', async () => {
    display.cursorChanged({ scanoutId: 0, x: 40, y: 30, hotX: 5, hotY: 7, resourceId: 9, image: arrowCursor() });
    const offset = () =>
      page.evaluate(() => {
        const cur = document.querySelector<HTMLCanvasElement>('canvas.cursor')!;
        const fb = document.querySelector<HTMLCanvasElement>('canvas.fb[data-scanout="0"]')!;
        const a = cur.getBoundingClientRect();
        const b = fb.getBoundingClientRect();
        return { dx: a.left - b.left, dy: a.top - b.top, w: a.width, shown: cur.style.display !== 'none' };
      });
    await expect.poll(offset).toEqual({ dx: 35, dy: 23, w: 64, shown: true });
    const img = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('canvas.cursor')!;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, 64, 64).data);
    });
    expect(new Uint8Array(img)).toEqual(arrowCursor());
    display.cursorChanged({ scanoutId: 0, x: 200, y: 150, hotX: 5, hotY: 7, resourceId: 9 });
    await expect.poll(offset).toEqual({ dx: 195, dy: 143, w: 64, shown: true });
    display.cursorChanged({ scanoutId: 0, x: 200, y: 150, hotX: 5, hotY: 7, resourceId: 0 });
    await expect.poll(async () => (await offset()).shown).toBe(false);
  });

  it('zoom buttons -> 2x doubles the displayed size; fit fits the window', async () => {
    const stageWidth = () => page.locator('figure[data-scanout="0"] .stage').evaluate((e) => e.getBoundingClientRect().width);
    await page.click('button[data-zoom="2"]');
    expect(await stageWidth()).toBe(640);
    await page.click('button[data-zoom="fit"]');
    await page.waitForTimeout(50);
    const fitted = await page.evaluate(() => {
      const main = document.querySelector('main')!;
      return { scrollW: main.scrollWidth, clientW: main.clientWidth, scrollH: main.scrollHeight, clientH: main.clientHeight };
    });
    expect(fitted.scrollW).toBeLessThanOrEqual(fitted.clientW);
    expect(fitted.scrollH).toBeLessThanOrEqual(fitted.clientH);
    await page.click('button[data-zoom="1"]');
  });

  it('fps counter -> frames per second per scanout; the header shows the busiest scanout, not the sum', async () => {
    // Both scanouts at ~20 updates/s: each caption shows ~20, and so does the header (a sum would show ~40).
    const timer = setInterval(() => {
      for (const id of [0, 1]) {
        source.fill(id, { x: 0, y: 0, width: 10, height: 10 }, [Math.floor(Math.random() * 255), 0, 0, 255]);
        display.flushed(id, { x: 0, y: 0, width: 10, height: 10 });
      }
    }, 50);
    const rate = async (sel: string) => Number((await page.locator(sel).textContent())?.split(' ')[0]);
    try {
      await expect.poll(() => rate('#fps'), { timeout: 5000 }).toBeGreaterThan(5);
      await expect.poll(() => rate('figure[data-scanout="0"] .rate'), { timeout: 5000 }).toBeGreaterThan(5);
      await expect.poll(() => rate('figure[data-scanout="1"] .rate'), { timeout: 5000 }).toBeGreaterThan(5);
      expect(await rate('#fps')).toBeLessThanOrEqual(30);
    } finally {
      clearInterval(timer);
    }
    await page.click('button[data-zoom="1"]');
    if (process.env.VIEWER_SCREENSHOT) {
      display.cursorChanged({ scanoutId: 0, x: 100, y: 60, hotX: 0, hotY: 0, resourceId: 9, image: arrowCursor() });
      await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('canvas.cursor')?.style.display === '');
      await page.screenshot({ path: process.env.VIEWER_SCREENSHOT });
    }
    expect(pageErrors).toEqual([]);
  });
});
