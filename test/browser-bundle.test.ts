/**
 * The browser promise of docs/architecture.md, checked for real: the built browser entries of
 * protocol, virtqueue, guest, device and display bundle for the browser with no Node polyfills,
 * and the demo workload runs in Debian's Chromium (playwright-core, never a downloaded browser),
 * drawing to canvases that must equal the device's own scanout readback and the same run in Node.
 *
 * The bundle is made from the packages' dist (what npm users get), so `pnpm build` comes first;
 * `pnpm test` does that. Outside CI a missing Chromium skips the browser part with a message; in
 * CI (process.env.CI set) it fails instead.
 */
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FRAMES, SCANOUTS, runDemo, wireGpu, type PageResult } from './browser-bundle.page';

const PAGE_ENTRY = fileURLToPath(new URL('./browser-bundle.page.ts', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = Boolean(process.env.CI);
if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`browser bundle test: Chromium part skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); in CI it fails instead`);
}

/** The packages whose browser entries must bundle; each must appear among the bundle's inputs. */
const BROWSER_PACKAGES = ['protocol', 'virtqueue', 'guest', 'device', 'display'];

/**
 * Node globals a browser lacks. Each free reference is replaced with a marker by esbuild's
 * `define` (which touches only real references, never comments, strings or properties such as
 * `x.process`), so a marker in the output is a use. `require` is not among them: esbuild bundles a
 * dependency's static require() calls, and one it cannot resolve leaves its `__require` shim.
 */
const NODE_GLOBALS = ['Buffer', 'process', 'global', 'setImmediate', 'clearImmediate', '__dirname', '__filename'];
const MARKER = '__NODE_GLOBAL_USED__';

interface BundleResult {
  code: string;
  /** Node built-in imports, as "specifier (from importer)". */
  nodeImports: string[];
  /** Node globals referenced by the output. */
  nodeGlobals: string[];
  inputs: string[];
}

/** Bundles `options` for the browser and reports every Node dependency instead of polyfilling it. */
async function bundleForBrowser(options: BuildOptions): Promise<BundleResult> {
  const nodeImports: string[] = [];
  const builtins = new Set(builtinModules);
  const refuseNode: Plugin = {
    name: 'refuse-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.startsWith('node:') ? args.path.slice(5) : args.path;
        if (args.path.startsWith('node:') || builtins.has(bare) || builtins.has(bare.split('/')[0]!)) {
          nodeImports.push(`${args.path} (from ${args.importer || '<entry>'})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  const result = await build({
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    logLevel: 'silent',
    metafile: true,
    define: Object.fromEntries(NODE_GLOBALS.map((g) => [g, `${MARKER}${g}`])),
    plugins: [refuseNode],
    ...options,
  });
  const code = result.outputFiles![0]!.text;
  const nodeGlobals = NODE_GLOBALS.filter((g) => new RegExp(`\\b${MARKER}${g}\\b`).test(code));
  // esbuild's own shim for a require() it could not resolve statically.
  if (/\b__require\b/.test(code)) nodeGlobals.push('require (esbuild __require shim)');
  return { code, nodeImports, nodeGlobals, inputs: Object.keys(result.metafile!.inputs) };
}

describe('browser bundle of protocol, virtqueue, guest, device and display', () => {
  let bundle: BundleResult;
  beforeAll(async () => {
    bundle = await bundleForBrowser({ entryPoints: [PAGE_ENTRY], globalName: '__vgpuPage' });
  });

  test('the built browser entries bundle with no node: or built-in imports and no Node globals', () => {
    expect(bundle.nodeImports).toEqual([]);
    expect(bundle.nodeGlobals).toEqual([]);
    // The built entries (dist), not sources: that is what an npm user's bundler sees.
    for (const pkg of BROWSER_PACKAGES) {
      expect(bundle.inputs.some((p) => new RegExp(`(^|/)(packages/${pkg}|@virtio-gpu/${pkg})/dist/`).test(p)), pkg).toBe(true);
    }
  });

  test('the check itself: a node: import, a bare built-in and Buffer/process uses are each reported', async () => {
    const bad = await bundleForBrowser({
      stdin: {
        contents: "import { readFileSync } from 'node:fs'; import { inherits } from 'util'; export const x = [readFileSync, inherits, Buffer.from('a'), process.env.CI, typeof global];",
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
    });
    expect(bad.nodeImports.map((s) => s.split(' ')[0])).toEqual(['node:fs', 'util']);
    // The two external imports survive only through esbuild's require shim: reported as well.
    expect(bad.nodeGlobals).toEqual(['Buffer', 'process', 'global', 'require (esbuild __require shim)']);
  });

  // The device converts pixels with a WebAssembly SIMD kernel where it may; a page whose
  // Content-Security-Policy has no 'wasm-unsafe-eval' cannot compile it and must get the same
  // pixels from the JavaScript kernels.
  describe.skipIf(!HAVE_CHROMIUM && !IN_CI).each([
    { name: 'in Chromium', csp: null, wasm: true },
    { name: 'in Chromium, WebAssembly forbidden by CSP', csp: "script-src 'unsafe-inline'", wasm: false },
  ])('$name', ({ csp, wasm }) => {
    let browser: Browser;
    let page: PageResult;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      if (!HAVE_CHROMIUM) throw new Error(`CI requires Chromium at ${CHROMIUM} (apt-get install chromium)`);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      });
      const tab = await browser.newPage();
      tab.on('pageerror', (e) => pageErrors.push(String(e)));
      tab.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(m.text());
      });
      const policy = csp === null ? '' : `<meta http-equiv="Content-Security-Policy" content="${csp}">`;
      await tab.setContent(`<!doctype html><meta charset="utf-8">${policy}<title>virtio-gpu bundle</title><body></body>`);
      await tab.addScriptTag({ content: bundle.code });
      page = await tab.evaluate(() => (window as unknown as { __vgpuPage: { runInPage(): Promise<PageResult> } }).__vgpuPage.runInPage());
    });

    afterAll(async () => {
      await browser?.close();
    });

    const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

    test('the demo runs without page errors; each scanout canvas equals the device readback byte for byte', () => {
      expect(page.wasm).toBe(wasm);
      // A CSP refusal is reported on the console; anything else is an error.
      expect(pageErrors.filter((e) => !(csp !== null && /WebAssembly|wasm-unsafe-eval|Content Security Policy/i.test(e)))).toEqual([]);
      expect(page.scanouts.map((s) => [s.id, s.width, s.height])).toEqual(SCANOUTS.map((s, id) => [id, s.width, s.height]));
      // Setup, then per frame a full flush of scanout 0 and two rects of scanout 1.
      expect(page.frameEvents).toBeGreaterThanOrEqual(FRAMES * 3);
      for (const s of page.scanouts) {
        const canvas = bytes(s.canvas);
        expect(canvas.length).toBe(s.width * s.height * 4);
        expect(Buffer.compare(canvas, bytes(s.readback)), `scanout ${s.id}`).toBe(0);
        // Not a blank canvas: the demo draws several colours.
        expect(new Set(new Uint32Array(canvas.buffer)).size, `scanout ${s.id} colours`).toBeGreaterThan(3);
      }
    });

    test('the same workload in Node gives the same surfaces, and the PNG encoded in the page is byte-identical and decodes to them', async () => {
      const rig = wireGpu(SCANOUTS);
      const ids = await runDemo(rig, FRAMES);
      expect(ids).toEqual(page.scanouts.map((s) => s.id));
      for (const s of page.scanouts) {
        const surface = rig.display.surface(s.id)!;
        expect(Buffer.compare(bytes(s.canvas), surface.data), `scanout ${s.id}`).toBe(0);
        const pagePng = bytes(s.png);
        const nodePng = rig.display.toPng(s.id, { cursor: true });
        expect(Buffer.compare(pagePng, nodePng), `scanout ${s.id} PNG bytes`).toBe(0);
        const decoded = PNG.sync.read(Buffer.from(pagePng));
        expect(new Uint8Array(decoded.data)).toEqual(rig.display.composite(s.id)!.data);
      }
    });
  });
});
