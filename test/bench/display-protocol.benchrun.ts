/**
 * What QEMU 10 accepts on the vhost-user-gpu display channel on this machine (no GPU, no
 * /dev/udmabuf, no DRM render node), measured rather than assumed: the backend runs in this
 * process so the probe can send on its display channel directly.
 *
 * - UPDATE of a damaged rect only (what the backend sends for partial flushes).
 * - DMABUF_SCANOUT with a memfd (the only shareable buffer here: no udmabuf to turn guest pages
 *   into a dmabuf) and DMABUF_UPDATE, with `-display none` and with the D-Bus display (the one
 *   DMABUF-capable display that starts without GL).
 * - `-display egl-headless` (a GL display): whether it starts at all.
 *
 * Prints a table (and .cache/bench/display-protocol.md); asserts nothing about QEMU's answers.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeFd, mapFd, memfdCreate } from '@virtio-gpu/native';
import { DisplayChannel, NativeHost, VHOST_USER_GPU_DMABUF_SCANOUT, VHOST_USER_GPU_DMABUF_UPDATE, VHOST_USER_GPU_UPDATE, VhostUserServer, encodeDmabufScanout, encodeUpdateHead } from '@virtio-gpu/vhost-user';
import { afterAll, expect, it } from 'vitest';
import { GUEST_DIR, type Image, QEMU_BIN, Qemu, REPO, cleanupTemp, prepareGuest, tempDir } from '../guest/harness.js';

afterAll(() => cleanupTemp());

const W = 1280;
const H = 800;
const DRM_FORMAT_XRGB8888 = 0x34325258;

function pixel(img: Image, x: number, y: number): string {
  const o = (y * img.width + x) * 3;
  return [img.rgb[o], img.rgb[o + 1], img.rgb[o + 2]].map((v) => v.toString(16).padStart(2, '0')).join('');
}

async function withBackend<T>(fn: (server: VhostUserServer, socket: string, logs: string[]) => Promise<T>): Promise<T> {
  const logs: string[] = [];
  const socket = join(tempDir('vgpu-probe-'), 'gpu.sock');
  const server = new VhostUserServer({ host: new NativeHost(), path: socket, numScanouts: 1, log: (l, m) => logs.push(`${l} ${m}`) });
  server.listen();
  try {
    return await fn(server, socket, logs);
  } finally {
    server.close();
  }
}

function channelOf(server: VhostUserServer): DisplayChannel {
  const ch = server.backend?.display.currentChannel;
  if (!ch) throw new Error('no display channel');
  return ch;
}

/** A memfd holding a full frame of one B8G8R8X8 colour. */
function colourMemfd(bgrx: number): number {
  const fd = memfdCreate('vgpu-probe-scanout', W * H * 4);
  const m = mapFd(fd, 0, W * H * 4);
  new Uint32Array(m.buffer).fill(bgrx);
  m.unmap();
  return fd;
}

async function probeDmabuf(display: 'none' | 'dbus'): Promise<string> {
  return withBackend(async (server, socket) => {
    const q = new Qemu({ gpu: { kind: 'vhost-user', socket }, dbus: display === 'dbus' });
    try {
      await q.waitSerial(/GUEST\[[0-9.]+\]: READY/, 180_000);
      const before = await q.screendump();
      const ch = channelOf(server);
      const fd = colourMemfd(0x00ff0000); // red
      const scan = new Uint8Array(12 + 40);
      encodeDmabufScanout(new DataView(scan.buffer), 0, { scanoutId: 0, x: 0, y: 0, width: W, height: H, fdWidth: W, fdHeight: H, fdStride: W * 4, fdFlags: 0, fourcc: DRM_FORMAT_XRGB8888 });
      ch.send(scan, [fd]);
      closeFd(fd);
      const upd = new Uint8Array(32);
      encodeUpdateHead(new DataView(upd.buffer), 0, VHOST_USER_GPU_DMABUF_UPDATE, 0, 0, 0, W, H);
      const t0 = performance.now();
      const unblocked = await ch.sendAwaitingUnblock(upd);
      const ms = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 500));
      let after = 'screendump failed';
      try {
        const img = await q.screendump();
        after = `${img.width}x${img.height}, pixel (640,400) = #${pixel(img, 640, 400)} (before #${pixel(before, 640, 400)})`;
      } catch (e) {
        after = `screendump failed: ${(e as Error).message.slice(0, 120)}`;
      }
      const errs = q.stderr.trim().split('\n').filter((l) => l && !/terminating on signal/.test(l));
      return `DMABUF_SCANOUT (memfd) + DMABUF_UPDATE: ${unblocked ? `unblock reply after ${ms.toFixed(1)} ms` : 'no reply'}; QEMU says: ${errs.length ? errs.join(' / ') : '(nothing)'}; screen after: ${after}`;
    } finally {
      await q.quit();
    }
  });
}

async function probeDamage(): Promise<string> {
  return withBackend(async (server, socket) => {
    const q = new Qemu({ gpu: { kind: 'vhost-user', socket } });
    try {
      await q.waitSerial(/GUEST\[[0-9.]+\]: READY/, 180_000);
      const before = await q.screendump();
      const ch = channelOf(server);
      // A 64x64 green square at (600, 300): header, head, pixels.
      const msg = new Uint8Array(32 + 64 * 64 * 4);
      encodeUpdateHead(new DataView(msg.buffer), 0, VHOST_USER_GPU_UPDATE, 0, 600, 300, 64, 64);
      new Uint32Array(msg.buffer, 32).fill(0x0000ff00);
      ch.send(msg);
      await new Promise((r) => setTimeout(r, 300));
      const after = await q.screendump();
      let changed = 0;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (pixel(after, x, y) !== pixel(before, x, y)) changed++;
      return `UPDATE of a 64x64 rect: ${changed} pixels changed (${changed <= 64 * 64 ? 'only the rect' : 'more than the rect'}), (620,320) = #${pixel(after, 620, 320)}`;
    } finally {
      await q.quit();
    }
  });
}

function probeEglHeadless(): string {
  const r = spawnSync(QEMU_BIN, ['-nodefaults', '-vga', 'none', '-display', 'egl-headless', '-accel', 'tcg', '-m', '64', '-S', '-device', 'virtio-gpu-pci'], { timeout: 10_000, encoding: 'utf8' });
  const msg = (r.stderr ?? '').trim().split('\n').filter(Boolean).join(' / ');
  return r.status === null ? 'egl-headless: started (killed after 10 s)' : `egl-headless: exit ${r.status}: ${msg}`;
}

it(
  'display protocol variants QEMU 10 accepts here',
  async () => {
    const problem = prepareGuest();
    if (problem) throw new Error(problem);
    const rows = [
      ['damage-only UPDATE', await probeDamage()],
      ['DMABUF, -display none', await probeDmabuf('none')],
      ['DMABUF, -display dbus,p2p=yes', await probeDmabuf('dbus')],
      ['GL display', probeEglHeadless()],
    ];
    const out = ['| variant | result |', '|---|---|', ...rows.map(([a, b]) => `| ${a} | ${b.replace(/\|/g, '/')} |`)].join('\n');
    process.stdout.write(`\n${out}\n(guest: ${GUEST_DIR})\n`);
    mkdirSync(join(REPO, '.cache/bench'), { recursive: true });
    writeFileSync(join(REPO, '.cache/bench/display-protocol.md'), `${out}\n`);
    expect(rows).toHaveLength(4);
  },
  900_000,
);
