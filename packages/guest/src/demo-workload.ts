import {
  VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
  VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
  VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
  VIRTIO_GPU_RESP_OK_EDID,
  VIRTIO_GPU_RESP_OK_NODATA,
  type MemEntry,
  type Rect,
  type Response,
} from '@virtio-gpu/protocol';
import { cmd, rect } from './commands';
import type { GpuDriver } from './driver';
import { drawText } from './font';

/** Options of {@link DemoWorkload}. */
export interface DemoWorkloadOptions {
  /** Use at most this many scanouts of those the device reports. Default 2. */
  maxScanouts?: number;
}

/** What one scanout of the demo holds on the guest side. */
interface DemoScanout {
  id: number;
  width: number;
  height: number;
  resourceId: number;
  backing: MemEntry[];
  /** The guest's copy of the framebuffer, 0xAARRGGBB per pixel (B8G8R8X8 in memory). */
  px: Uint32Array;
  bytes: Uint8Array;
  /** Bouncing box of the partial-update scanout at the previous frame. */
  prev?: Rect;
}

const CURSOR_RESOURCE = 100;
const BOX = 96;

/** Throws unless `resp` is `type` (the demo treats any device error as a bug). */
function expect(resp: Response, type: number, what: string): Response {
  if (resp.type !== type) throw new Error(`${what}: device answered 0x${resp.type.toString(16)}`);
  return resp;
}

/**
 * The demo's guest workload, deterministic in the frame number: scanout 0 gets an animated
 * full-frame transfer each frame, scanout 1 (if present) a bouncing box sent as partial
 * transfers, a cursor moves on a Lissajous path and changes colour every 90 frames, and each
 * frame ends with a fenced flush that the next frame waits for. Resources are backed by
 * scattered 4 KiB guest pages, as a long-running guest's would be.
 */
export class DemoWorkload {
  readonly driver: GpuDriver;
  readonly scanouts: DemoScanout[] = [];
  private readonly maxScanouts: number;
  private cursorBacking: MemEntry[] = [];
  private cursorColor = -1;

  constructor(driver: GpuDriver, opts: DemoWorkloadOptions = {}) {
    this.driver = driver;
    this.maxScanouts = opts.maxScanouts ?? 2;
  }

  /** Reads the display configuration and creates, backs and shows one resource per scanout, plus the cursor. */
  async setup(): Promise<void> {
    const d = this.driver;
    const info = expect(await d.send(cmd.getDisplayInfo()), VIRTIO_GPU_RESP_OK_DISPLAY_INFO, 'GET_DISPLAY_INFO') as Extract<Response, { pmodes: unknown }>;
    const enabled = info.pmodes.map((m, id) => ({ ...m, id })).filter((m) => m.enabled).slice(0, this.maxScanouts);
    if (enabled.length === 0) throw new Error('no enabled scanout');
    for (const m of enabled) {
      expect(await d.send(cmd.getEdid(m.id)), VIRTIO_GPU_RESP_OK_EDID, 'GET_EDID');
      const { width, height } = m.r;
      const resourceId = m.id + 1;
      const backing = d.ram.allocScattered(width * height * 4, false);
      const buf = new ArrayBuffer(width * height * 4);
      const s: DemoScanout = { id: m.id, width, height, resourceId, backing, px: new Uint32Array(buf), bytes: new Uint8Array(buf) };
      expect(await d.send(cmd.resourceCreate2d(resourceId, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width, height)), VIRTIO_GPU_RESP_OK_NODATA, 'RESOURCE_CREATE_2D');
      expect(await d.send(cmd.attachBacking(resourceId, backing)), VIRTIO_GPU_RESP_OK_NODATA, 'ATTACH_BACKING');
      if (this.scanouts.length > 0) this.drawChecker(s);
      d.ram.writeEntries(backing, 0, s.bytes);
      expect(await d.send(cmd.transferToHost2d(resourceId, rect(0, 0, width, height))), VIRTIO_GPU_RESP_OK_NODATA, 'TRANSFER_TO_HOST_2D');
      expect(await d.send(cmd.setScanout(m.id, resourceId, rect(0, 0, width, height))), VIRTIO_GPU_RESP_OK_NODATA, 'SET_SCANOUT');
      expect(await d.send(cmd.resourceFlush(resourceId, rect(0, 0, width, height))), VIRTIO_GPU_RESP_OK_NODATA, 'RESOURCE_FLUSH');
      this.scanouts.push(s);
    }
    expect(await d.send(cmd.resourceCreate2d(CURSOR_RESOURCE, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64)), VIRTIO_GPU_RESP_OK_NODATA, 'cursor RESOURCE_CREATE_2D');
    this.cursorBacking = d.ram.allocScattered(64 * 64 * 4);
    expect(await d.send(cmd.attachBacking(CURSOR_RESOURCE, this.cursorBacking)), VIRTIO_GPU_RESP_OK_NODATA, 'cursor ATTACH_BACKING');
  }

  /** Draws and presents frame `n`; resolves when the frame's fence has retired. */
  async frame(n: number): Promise<void> {
    const d = this.driver;
    const pending: Array<Promise<Response>> = [];
    const send = async (c: Parameters<GpuDriver['send']>[0], fence = false) => pending.push((await d.submit(c, { fence })).response);

    const main = this.scanouts[0]!;
    this.drawBands(main, n);
    d.ram.writeEntries(main.backing, 0, main.bytes);
    await send(cmd.transferToHost2d(main.resourceId, rect(0, 0, main.width, main.height)));

    for (const s of this.scanouts.slice(1)) {
      for (const r of this.drawBox(s, n)) {
        this.writeRect(s, r);
        await send(cmd.transferToHost2d(s.resourceId, r, r.y * s.width * 4 + r.x * 4));
        await send(cmd.resourceFlush(s.resourceId, r));
      }
    }

    const color = Math.floor(n / 90) % CURSOR_COLORS.length;
    const [cx, cy] = cursorPath(n, main.width, main.height);
    if (color !== this.cursorColor) {
      this.cursorColor = color;
      d.ram.writeEntries(this.cursorBacking, 0, cursorImage(CURSOR_COLORS[color]!));
      await send(cmd.transferToHost2d(CURSOR_RESOURCE, rect(0, 0, 64, 64)));
      await send(cmd.updateCursor(main.id, cx, cy, CURSOR_RESOURCE, 2, 2));
    } else {
      await send(cmd.moveCursor(main.id, cx, cy));
    }
    // The frame's fence rides on its last command, the main flush: answered when it retires.
    await send(cmd.resourceFlush(main.resourceId, rect(0, 0, main.width, main.height)), true);
    for (const r of await Promise.all(pending)) expect(r, VIRTIO_GPU_RESP_OK_NODATA, 'frame command');
  }

  /** Disables the scanouts and frees every resource and page. */
  async teardown(): Promise<void> {
    const d = this.driver;
    await d.send(cmd.updateCursor(0, 0, 0, 0, 0, 0));
    for (const s of this.scanouts) {
      expect(await d.send(cmd.setScanout(s.id, 0, rect(0, 0, 0, 0))), VIRTIO_GPU_RESP_OK_NODATA, 'SET_SCANOUT off');
      expect(await d.send(cmd.detachBacking(s.resourceId)), VIRTIO_GPU_RESP_OK_NODATA, 'DETACH_BACKING');
      expect(await d.send(cmd.resourceUnref(s.resourceId)), VIRTIO_GPU_RESP_OK_NODATA, 'RESOURCE_UNREF');
      d.ram.freeEntries(s.backing);
    }
    expect(await d.send(cmd.resourceUnref(CURSOR_RESOURCE)), VIRTIO_GPU_RESP_OK_NODATA, 'cursor RESOURCE_UNREF');
    d.ram.freeEntries(this.cursorBacking);
    this.scanouts.length = 0;
  }

  private drawBands(s: DemoScanout, n: number): void {
    const { px, width, height } = s;
    const shift = n * 3;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) px[row + x] = PALETTE[((x + y + shift) >> 3) & 255]!;
    }
    drawText(px, width, height, 24, 24, 'VIRTIO-GPU DEMO', 0xffffffff, 4);
    drawText(px, width, height, 24, 72, `FRAME ${n}`, 0xff101010, 3);
    drawText(px, width, height, 24, height - 40, `SCANOUT ${s.id}  ${width}x${height}  FULL-FRAME TRANSFERS`, 0xffffffff, 2);
  }

  private drawChecker(s: DemoScanout): void {
    const { px, width, height } = s;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[y * width + x] = ((x >> 5) ^ (y >> 5)) & 1 ? 0xff303848 : 0xff202028;
    drawText(px, width, height, 16, height - 32, `SCANOUT ${s.id}  PARTIAL TRANSFERS`, 0xffd0d0d0, 2);
  }

  /** Moves the box for frame n; returns the rects whose pixels changed (old and new box). */
  private drawBox(s: DemoScanout, n: number): Rect[] {
    const { px, width } = s;
    const boxW = Math.min(BOX, s.width);
    const boxH = Math.min(BOX, s.height);
    // Keep the caption row clear when the scanout is tall enough to have one.
    const caption = s.height >= boxH + 40 ? 40 : 0;
    const box = rect(bounce(n * 5, s.width - boxW), bounce(n * 3, s.height - boxH - caption), boxW, boxH);
    const dirty: Rect[] = [];
    if (s.prev) {
      const p = s.prev;
      for (let y = p.y; y < p.y + p.height; y++) for (let x = p.x; x < p.x + p.width; x++) px[y * width + x] = ((x >> 5) ^ (y >> 5)) & 1 ? 0xff303848 : 0xff202028;
      dirty.push(p);
    }
    const c = PALETTE[(n * 2) & 255]!;
    for (let y = box.y; y < box.y + box.height; y++) for (let x = box.x; x < box.x + box.width; x++) px[y * width + x] = c;
    drawText(px, width, s.height, box.x + 8, box.y + 40, String(n % 1000).padStart(3, '0'), 0xff000000, 3);
    dirty.push(box);
    s.prev = box;
    return dirty;
  }

  private writeRect(s: DemoScanout, r: Rect): void {
    const stride = s.width * 4;
    for (let y = r.y; y < r.y + r.height; y++) {
      const at = y * stride + r.x * 4;
      this.driver.ram.writeEntries(s.backing, at, s.bytes.subarray(at, at + r.width * 4));
    }
  }
}

/** 0..span..0 triangle wave (always 0 when span is 0). */
function bounce(t: number, span: number): number {
  if (span <= 0) return 0;
  const m = t % (2 * span);
  return m < span ? m : 2 * span - m;
}

/** The cursor's position at frame n: a Lissajous figure inside the scanout. */
export function cursorPath(n: number, width: number, height: number): [number, number] {
  const t = n / 60;
  const ax = Math.max(0, width / 2 - 40);
  const ay = Math.max(0, height / 2 - 40);
  return [Math.round(ax * (1 + Math.sin(3 * t)) + Math.min(20, width / 2)), Math.round(ay * (1 + Math.sin(2 * t)) + Math.min(20, height / 2))];
}

const CURSOR_COLORS = [0xffffffff, 0xffffd040, 0xff60ff80, 0xff60c0ff];

/** The arrow, at half size: X outline, . fill, space transparent. */
const ARROW = [
  'X', 'XX', 'X.X', 'X..X', 'X...X', 'X....X', 'X.....X', 'X......X', 'X.......X', 'X........X',
  'X.........X', 'X......XXXXX', 'X...X..X', 'X..XX..X', 'X.X  X..X', 'XX   X..X', 'X     X..X', '      X..X', '       XX',
];

/** A 64x64 B8G8R8A8 arrow cursor (drawn at 2x) filled with `fill`, transparent elsewhere. */
function cursorImage(fill: number): Uint8Array {
  const px = new Uint32Array(64 * 64);
  ARROW.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) {
      const ch = row[x];
      if (ch === ' ') continue;
      const v = ch === 'X' ? 0xff000000 : fill;
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) px[(2 * y + dy + 2) * 64 + 2 * x + dx + 2] = v;
    }
  });
  return new Uint8Array(px.buffer);
}

/** A smooth 256-entry colour wheel, 0xFFRRGGBB. */
const PALETTE: Uint32Array = (() => {
  const p = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const a = (i / 256) * 2 * Math.PI;
    const r = Math.round(127.5 + 127.5 * Math.sin(a));
    const g = Math.round(127.5 + 127.5 * Math.sin(a + (2 * Math.PI) / 3));
    const b = Math.round(127.5 + 127.5 * Math.sin(a + (4 * Math.PI) / 3));
    p[i] = (0xff000000 | (r << 16) | (g << 8) | b) >>> 0;
  }
  return p;
})();
