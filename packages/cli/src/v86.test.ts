import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { GUEST_DIR, patternMismatches } from '../../../test/guest-v86/pattern.js';
import { runDemo } from './demo.js';
import { runV86 } from './v86.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdin: async () => new Uint8Array(0), stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

const kernel = join(GUEST_DIR, 'bzImage');
const initrd = join(GUEST_DIR, 'initrd.cpio.gz');
const haveGuest = existsSync(kernel) && existsSync('/usr/share/seabios/bios.bin');
if (!haveGuest && process.env.CI) throw new Error('virtio-gpu v86 tests need the guest (test/guest-v86/build.sh) and seabios');
if (!haveGuest) console.warn('virtio-gpu v86 boot tests skipped: no guest in .cache/guest-v86 (test/guest-v86/build.sh) or no seabios');

describe('virtio-gpu v86: arguments', () => {
  it('no --kernel/--initrd -> exit 1 with the usage', async () => {
    const c = capture();
    expect(await runV86([], c.io)).toBe(1);
    expect(c.err()).toContain('--kernel and --initrd are required');
  });

  it('--png without --until -> exit 1', async () => {
    const c = capture();
    expect(await runV86(['--kernel', 'k', '--initrd', 'i', '--png', 'x.png'], c.io)).toBe(1);
    expect(c.err()).toContain('--png needs --until');
  });

  it('a kernel that does not exist -> exit 1 naming it', async () => {
    const c = capture();
    expect(await runV86(['--kernel', '/nonexistent/bzImage', '--initrd', '/nonexistent/initrd'], c.io)).toBe(1);
    expect(c.err()).toContain('cannot read /nonexistent/bzImage');
  });

  it('--memory out of range -> exit 1', async () => {
    const c = capture();
    expect(await runV86(['--kernel', 'k', '--initrd', 'i', '--memory', '4096'], c.io)).toBe(1);
    expect(c.err()).toContain('--memory');
  });
});

describe.skipIf(!haveGuest)('virtio-gpu v86: real boots', () => {
  it('--until TEXT --png FILE -> exit 0, serial on stdout, scanout 0 as PNG showing the pattern', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vgpu-v86-'));
    try {
      const png = join(dir, 'screen.png');
      const c = capture();
      const code = await runV86(['--kernel', kernel, '--initrd', initrd, '--append', 'console=ttyS0 quiet guest.mode=test', '--until', 'pattern drawn', '--png', png, '--timeout', '240'], c.io);
      expect(c.err()).toContain(`wrote ${png}`);
      expect(code).toBe(0);
      expect(c.out()).toContain(']: bound fb=fb0');
      const img = PNG.sync.read(await readFile(png));
      expect([img.width, img.height]).toEqual([1024, 768]);
      expect(patternMismatches(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length), 1024, 768)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 260_000);

  it('TEXT never appears -> exit 1 after --timeout with the last serial lines', async () => {
    const c = capture();
    const code = await runV86(['--kernel', kernel, '--initrd', initrd, '--until', 'never printed', '--timeout', '3'], c.io);
    expect(code).toBe(1);
    expect(c.err()).toMatch(/"never printed" did not appear within 3 s; last serial lines:/);
  }, 60_000);
});

describe.skipIf(!haveGuest)('virtio-gpu demo --linux', () => {
  it('serves the page and the guest files at the printed URL', async () => {
    const c = capture();
    const run = runDemo(['--linux', '--kernel', kernel, '--initrd', initrd, '--timeout', '5'], c.io);
    let url = '';
    for (let i = 0; i < 100 && !url; i++) {
      await new Promise((r) => setTimeout(r, 50));
      url = /open (http:\S+)/.exec(c.out())?.[1] ?? '';
    }
    if (!url) {
      expect(await run).toBe(1); // no built page: the error names it
      expect(c.err()).toContain('pnpm build');
      return;
    }
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Linux in v86');
    const k = await fetch(new URL('guest/bzImage', url));
    expect(Number(k.headers.get('content-length'))).toBe((await readFile(kernel)).length);
    expect((await k.arrayBuffer()).byteLength).toBe((await readFile(kernel)).length);
    expect((await fetch(new URL('../etc/passwd', url))).status).toBe(404);
    expect(await run).toBe(0);
  }, 30_000);
});
