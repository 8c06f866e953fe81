/**
 * A real i386 Linux (Debian's 686 kernel, test/guest-v86) boots in v86 with our device on its PCI
 * bus. One boot serves every assertion (a boot takes 25-45 s on 2 busy cores): the driver binds,
 * the modes come from our EDID, the guest's /dev/fb0 pattern appears exactly on our scanout, the
 * device rides along v86's save_state/restore_state, survives v86's wasm memory growing, and a
 * resize raised by the device reaches the guest, which reads the display info again.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildEdid } from '@virtio-gpu/device';
import { PackedQueue } from '@virtio-gpu/virtqueue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BootedLinux, bootLinux } from '../src/node.js';
import { GUEST_DIR, edidDetailedModes, fromHex, patternMismatches } from '../../../test/guest-v86/pattern.js';

const kernel = join(GUEST_DIR, 'bzImage');
const initrd = join(GUEST_DIR, 'initrd.cpio.gz');
const haveGuest = existsSync(kernel) && existsSync(initrd) && existsSync('/usr/share/seabios/bios.bin');
if (!haveGuest && process.env.CI) throw new Error(`no v86 guest in ${GUEST_DIR} or no seabios: .ci/run builds it (test/guest-v86/build.sh)`);
if (!haveGuest) console.warn(`skipping the v86 Linux tests: run test/guest-v86/build.sh and apt-get install seabios (${GUEST_DIR})`);

/** The value after `V86G[t]: KEY ` on the last line that has it. */
function marker(text: string, key: string): string | null {
  const lines = text.split('\n').filter((l) => l.includes(`]: ${key} `));
  const last = lines.at(-1);
  return last ? last.slice(last.indexOf(`]: ${key} `) + key.length + 4).trim() : null;
}

describe.skipIf(!haveGuest)('Linux in v86 on our virtio-gpu', () => {
  let g: BootedLinux;
  const t0 = performance.now();
  const times: Record<string, number> = {};

  beforeAll(async () => {
    g = await bootLinux({ kernel, initrd, append: 'console=ttyS0 quiet guest.mode=test', memoryMiB: 128 });
  }, 60_000);
  afterAll(async () => {
    await g?.stop();
    console.log(`v86 boot timings (s): ${JSON.stringify(times)}`);
  });

  it('boots, and the virtio-gpu driver binds to our device', async () => {
    const text = await g.waitFor(/\]: bound fb=/, 150_000);
    times.bound = (performance.now() - t0) / 1000;
    expect(marker(text, 'bound')).toMatch(/^fb=fb0 dev=virtio0/);
    expect(g.gpu!.stats.irqs).toBeGreaterThan(0);
    // Linux 6.1 takes VIRTIO_F_RING_PACKED when offered: the real driver runs our packed rings.
    expect(g.gpu!.pci.queues[0]).toBeInstanceOf(PackedQueue);
  }, 160_000);

  it('the guest reads our EDID, and its modes are the EDID\'s', async () => {
    const text = await g.waitFor(/\]: modes /, 30_000);
    const edid = fromHex(marker(text, 'edid')!);
    expect(edid).toEqual(buildEdid({ width: 1024, height: 768, serial: 0 }));
    expect(marker(text, 'modes')!.split(',')).toEqual(edidDetailedModes(edid));
  }, 40_000);

  it('the pattern the guest writes to /dev/fb0 appears exactly on scanout 0', async () => {
    const text = await g.waitFor(/\]: pattern drawn/, 90_000);
    times.drawn = (performance.now() - t0) / 1000;
    expect(marker(text, 'fb')).toBe('1024 768 4096 32');
    // fbdev's damage worker flushes shortly after the write: poll until the frame is complete.
    const px = new Uint8Array(1024 * 768 * 4);
    let bad = -1;
    for (let i = 0; i < 50 && bad !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      expect(g.gpu!.readScanout(0, { x: 0, y: 0, width: 1024, height: 768 }, px, 1024 * 4)).toBe(true);
      bad = patternMismatches(px, 1024, 768);
    }
    expect(bad).toBe(0);
  }, 100_000);

  it('rides along save_state/restore_state, and survives v86 growing its wasm memory', async () => {
    const emu = g.emulator;
    const state = await emu.save_state();
    expect(state.byteLength).toBeGreaterThan(1 << 20);
    const cpu = (emu.v86 as { cpu: { wasm_memory: WebAssembly.Memory } }).cpu;
    const rebuilds = g.gpu!.memory.rebuilds;
    cpu.wasm_memory.grow(16); // 1 MiB more: every view of the old buffer is detached
    await emu.restore_state(state);
    g.gpu!.refresh();
    expect(g.gpu!.memory.rebuilds).toBeGreaterThan(rebuilds);
    const px = new Uint8Array(1024 * 768 * 4);
    expect(g.gpu!.readScanout(0, { x: 0, y: 0, width: 1024, height: 768 }, px, 1024 * 4)).toBe(true);
    expect(patternMismatches(px, 1024, 768)).toBe(0);
  }, 60_000);

  it('a resize raised by the device reaches the guest, which reads display info and EDID again', async () => {
    // Resize only once the guest watches its connector: a change before would go unseen.
    expect(marker(await g.waitFor(/\]: watching modes /, 30_000), 'watching modes')).toBe('1024x768');
    g.gpu!.device.resizeScanout(0, 800, 600);
    const text = await g.waitFor(/\]: modes-changed [^\n]*\n[^\n]*\]: edid [0-9a-f]+\r?\n/, 60_000);
    times.resized = (performance.now() - t0) / 1000;
    expect(marker(text, 'modes-changed')).toBe('800x600');
    expect(fromHex(marker(text, 'edid')!)).toEqual(buildEdid({ width: 800, height: 600, serial: 0 }));
  }, 70_000);
});
