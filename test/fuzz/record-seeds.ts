/**
 * Writes the seed corpora: valid command streams recorded from real sessions, and valid rings.
 * Run with `pnpm fuzz:seeds` after changing the stream format or the workloads; the output is
 * committed under test/fuzz/corpus/.
 *
 * - device-2d, device-3d: the demo's workload (packages/guest DemoWorkload: setup, frames,
 *   teardown) and a 3D/blob/context session, each driven by the guest driver against a real
 *   device; every chain the driver made available is read back out of guest RAM at each kick, so
 *   the stream holds exactly the bytes the device received, with a kick where the guest kicked.
 * - decode: each distinct recorded request, and one encoded response of every kind.
 * - split-chain, packed-chain: rings with direct, multi-descriptor, region-crossing and indirect
 *   chains, written the way a driver lays them out.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as P from '@virtio-gpu/protocol';
import { type Renderer, Renderer2D, VirtioGpuDevice } from '@virtio-gpu/device';
import { DemoWorkload, GpuDriver, GuestRam, cmd, rect } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { FakeRegion } from '../../packages/device/test/fake-renderer';
import { TestRenderer3D, fill3d } from '../support/renderer3d';
import { PciDriver, PciRig } from './harness/pci-rig';
import {
  CTL_KICK,
  CTL_SETTLE,
  STREAM_LIMITS,
  STREAM_NUM_SCANOUTS,
  STREAM_QUEUE_SIZE,
  STREAM_RAM,
  STREAM_SCANOUTS,
  type StreamRecord,
  encodeStream,
} from './harness/command-stream';

const CORPUS = join(fileURLToPath(new URL('.', import.meta.url)), 'corpus');

function write(target: string, name: string, data: Uint8Array): void {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), data);
}

/** Drop the named seeds of a target (engine-found, hash-named inputs stay). */
function clearNamed(target: string): void {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (!/^[0-9a-f]{40}$/.test(f)) rmSync(join(dir, f));
}

/** Every chain published since the last call, read out of the driver's ring in guest RAM. */
class RingReader {
  private seen = 0;
  constructor(
    private readonly ram: GuestRam,
    private readonly layout: { size: number; descAddr: number; availAddr: number },
  ) {}

  take(qi: number): StreamRecord[] {
    const dv = (gpa: number, n: number) => new DataView(this.ram.bytes(gpa, n).slice().buffer);
    const { size, descAddr, availAddr } = this.layout;
    const idx = dv(availAddr + 2, 2).getUint16(0, true);
    const out: StreamRecord[] = [];
    for (; this.seen !== idx; this.seen = (this.seen + 1) & 0xffff) {
      let d = dv(availAddr + 4 + 2 * (this.seen % size), 2).getUint16(0, true);
      const parts: Uint8Array[] = [];
      let writable = 0;
      for (let i = 0; i < size; i++) {
        const desc = dv(descAddr + 16 * d, 16);
        const gpa = desc.getUint32(0, true) + desc.getUint32(4, true) * 0x1_0000_0000;
        const len = desc.getUint32(8, true);
        const flags = desc.getUint16(12, true);
        if (flags & 2) writable += len;
        else parts.push(this.ram.bytes(gpa, len).slice());
        if (!(flags & 1)) break;
        d = desc.getUint16(14, true);
      }
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        bytes.set(p, at);
        at += p.length;
      }
      const room = writable >= 1536 ? 0 : writable >= 24 ? 1 : writable === 0 ? 2 : 3;
      out.push({ ctl: qi | (room << 1), bytes });
    }
    return out;
  }
}

/** Run `session` against a real device in the stream rig's configuration; returns its stream. */
async function recordSession(renderer: Renderer, region: FakeRegion | undefined, session: (d: GpuDriver) => Promise<void>): Promise<StreamRecord[]> {
  const ram = new GuestRam({ regions: [STREAM_RAM] });
  const records: StreamRecord[] = [];
  let readers: RingReader[] = [];
  let device: VirtioGpuDevice | null = null;
  const driver = new GpuDriver({
    ram,
    queueSize: STREAM_QUEUE_SIZE,
    transport: {
      notify: (q) => {
        const got = readers[q].take(q);
        if (got.length === 0) return;
        got[got.length - 1].ctl |= CTL_KICK | CTL_SETTLE;
        records.push(...got);
        device!.notify(q as 0 | 1);
      },
    },
  });
  readers = [0, 1].map((q) => new RingReader(ram, driver.queueLayout(q)));
  device = new VirtioGpuDevice({
    memory: ram.memory,
    renderer,
    scanouts: STREAM_SCANOUTS,
    numScanouts: STREAM_NUM_SCANOUTS,
    limits: STREAM_LIMITS,
    hostVisible: region,
    random: (b) => b.fill(7),
    onInterrupt: () => void driver.interrupt(),
  });
  device.negotiate(device.features);
  device.attachQueues(new SplitQueue(ram.memory, driver.queueLayout(0)), new SplitQueue(ram.memory, driver.queueLayout(1)));
  await session(driver);
  return records;
}

async function ok(d: GpuDriver, c: P.Command, opts?: Parameters<GpuDriver['send']>[1]): Promise<void> {
  const r = await d.send(c, opts);
  if (r.type >= P.VIRTIO_GPU_RESP_ERR_UNSPEC) throw new Error(`seed session: ${P.describe(c)} answered 0x${r.type.toString(16)}`);
}

/** The 3D session: contexts, 3D resources and transfers, fenced submits on a ring, blobs mapped and shown. */
async function session3d(d: GpuDriver): Promise<void> {
  await ok(d, cmd.getCapsetInfo(0));
  await ok(d, cmd.getCapset(P.VIRTIO_GPU_CAPSET_VIRGL2, 2));
  await ok(d, cmd.ctxCreate(1, 'seed-3d', P.VIRTIO_GPU_CAPSET_VIRGL2));
  await ok(d, cmd.resourceCreate3d(10, { target: 2, format: 1, bind: 2, width: 16, height: 16 }));
  const backing = d.ram.allocScattered(16 * 16 * 4, false);
  await ok(d, cmd.attachBacking(10, backing));
  await ok(d, cmd.ctxAttachResource(1, 10));
  const box = { x: 0, y: 0, z: 0, w: 16, h: 16, d: 1 };
  await ok(d, cmd.transferToHost3d(1, 10, box), { ctxId: 1 });
  await ok(d, cmd.submit3d(1, fill3d(10, 0x55)), { ctxId: 1, fence: true, ringIdx: 0 });
  await ok(d, cmd.transferFromHost3d(1, 10, { ...box, w: 4, h: 4 }), { ctxId: 1, fence: true });
  await ok(d, cmd.assignUuid(10));
  await ok(d, cmd.createBlob(20, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 8192, [], 1, 1));
  await ok(d, cmd.mapBlob(20, 0x2000));
  await ok(d, cmd.unmapBlob(20));
  await ok(d, cmd.resourceUnref(20));
  const scan = d.ram.allocScattered(64 * 48 * 4, false);
  await ok(d, cmd.createBlob(30, P.VIRTIO_GPU_BLOB_MEM_GUEST, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 64 * 48 * 4, scan));
  await ok(d, cmd.setScanoutBlob(0, 30, rect(0, 0, 64, 48), 64, 48, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, [256, 0, 0, 0], [0, 0, 0, 0]));
  await ok(d, cmd.resourceFlush(30, rect(0, 0, 64, 48)), { fence: true });
  await ok(d, cmd.setScanout(0, 0, rect(0, 0, 0, 0)));
  await ok(d, cmd.resourceUnref(30));
  await ok(d, cmd.ctxDetachResource(1, 10));
  await ok(d, cmd.ctxDestroy(1));
  await ok(d, cmd.resourceUnref(10));
}

async function demo(d: GpuDriver, frames: number): Promise<void> {
  const w = new DemoWorkload(d);
  await w.setup();
  for (let n = 0; n < frames; n++) await w.frame(n);
  await w.teardown();
}

function r3d(): TestRenderer3D {
  const r = new TestRenderer3D();
  r.mode = { kind: 'microtask' };
  return r;
}

/** Sample responses of every kind, encoded, for the decode target. */
function responses(): [string, P.Response][] {
  const hdr = (type: number): P.CtrlHdr => ({ type, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 });
  const pmodes = Array.from({ length: 16 }, (_, i) => ({ r: rect(0, 0, i < 2 ? 64 : 0, i < 2 ? 48 : 0), enabled: i < 2 ? 1 : 0, flags: 0 }));
  return [
    ['nodata', { type: P.VIRTIO_GPU_RESP_OK_NODATA, hdr: hdr(P.VIRTIO_GPU_RESP_OK_NODATA) } as P.Response],
    ['err-unspec', { type: P.VIRTIO_GPU_RESP_ERR_UNSPEC, hdr: { ...hdr(P.VIRTIO_GPU_RESP_ERR_UNSPEC), flags: 3, fenceId: 9n, ctxId: 1, ringIdx: 2 } } as P.Response],
    ['display-info', { type: P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, hdr: hdr(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO), pmodes } as P.Response],
    ['capset-info', { type: P.VIRTIO_GPU_RESP_OK_CAPSET_INFO, hdr: hdr(P.VIRTIO_GPU_RESP_OK_CAPSET_INFO), capsetId: 2, capsetMaxVersion: 2, capsetMaxSize: 64 } as P.Response],
    ['capset', { type: P.VIRTIO_GPU_RESP_OK_CAPSET, hdr: hdr(P.VIRTIO_GPU_RESP_OK_CAPSET), data: new Uint8Array(16).fill(3) } as P.Response],
    ['edid', { type: P.VIRTIO_GPU_RESP_OK_EDID, hdr: hdr(P.VIRTIO_GPU_RESP_OK_EDID), size: 128, edid: new Uint8Array(128).fill(1) } as P.Response],
    ['uuid', { type: P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID, hdr: hdr(P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID), uuid: new Uint8Array(16).fill(0x42) } as P.Response],
    ['map-info', { type: P.VIRTIO_GPU_RESP_OK_MAP_INFO, hdr: hdr(P.VIRTIO_GPU_RESP_OK_MAP_INFO), mapInfo: 3 } as P.Response],
  ];
}

/** A ring image for the chain targets (memory from 0x1000 on), with its control bytes. */
class RingImage {
  readonly mem = new Uint8Array(0x5000);
  readonly dv = new DataView(this.mem.buffer);
  /** gpa -> offset in the image. */
  at(gpa: number): number {
    return gpa - 0x1000;
  }
  desc(table: number, i: number, gpa: number, len: number, flags: number, next: number): void {
    const o = this.at(table + 16 * i);
    this.dv.setBigUint64(o, BigInt(gpa), true);
    this.dv.setUint32(o + 8, len, true);
    this.dv.setUint16(o + 12, flags, true);
    this.dv.setUint16(o + 14, next, true);
  }
  seed(ctl: number, actions: number[]): Uint8Array {
    let end = this.mem.length;
    while (end > 0 && this.mem[end - 1] === 0) end--;
    return Uint8Array.from([ctl, actions.length, ...actions, ...this.mem.subarray(0, end)]);
  }
}

function splitSeeds(): [string, Uint8Array][] {
  const NEXT = 1;
  const WRITE = 2;
  const INDIRECT = 4;
  const img = new RingImage();
  // size 8: a request + response chain, a three-part chain crossing the region boundary, an indirect chain.
  img.desc(0x1000, 0, 0x4000, 24, NEXT, 1);
  img.desc(0x1000, 1, 0x4100, 1536, WRITE, 0);
  img.desc(0x1000, 2, 0x7ff0, 32, NEXT, 3);
  img.desc(0x1000, 3, 0x4800, 100, NEXT, 4);
  img.desc(0x1000, 4, 0x4900, 64, WRITE, 0);
  img.desc(0x1000, 5, 0x5000, 48, INDIRECT, 0);
  img.desc(0x5000, 0, 0x5100, 40, NEXT, 1);
  img.desc(0x5000, 1, 0x5200, 8, NEXT, 2);
  img.desc(0x5000, 2, 0x5300, 24, WRITE, 0);
  const avail = img.at(0x2000);
  [0, 2, 5].forEach((h, i) => img.dv.setUint16(avail + 4 + 2 * i, h, true));
  img.dv.setUint16(avail + 2, 3, true);
  img.mem.fill(0x41, img.at(0x4000), img.at(0x4000) + 24);
  const plain = img.seed(3, [0x00, 0x41, 0x01, 0x85, 0x01, 0x40, 0x80, 0x02]);
  const evidx = img.seed(3 | 8, [0x43, 0x7f, 0x05, 0x00]);
  return [
    ['rings-direct-crossing-indirect', plain],
    ['rings-event-idx', evidx],
  ];
}

function packedSeeds(): [string, Uint8Array][] {
  const AVAIL = 1 << 7;
  const NEXT = 1;
  const WRITE = 2;
  const INDIRECT = 4;
  const img = new RingImage();
  // struct pvirtq_desc is addr, len, id, flags: id at 12 and flags at 14 (the split layout's flags/next swapped).
  const pdesc = (table: number, i: number, gpa: number, len: number, flags: number, id: number) => img.desc(table, i, gpa, len, id, flags);
  // size 8, first lap (wrap counter 1: AVAIL set, USED clear): a two-descriptor chain (buffer id
  // in its last descriptor), then an indirect one whose table crosses the region boundary.
  pdesc(0x1000, 0, 0x4000, 24, AVAIL | NEXT, 0);
  pdesc(0x1000, 1, 0x4100, 1536, AVAIL | WRITE, 0);
  pdesc(0x1000, 2, 0x5000, 48, AVAIL | INDIRECT, 1);
  pdesc(0x5000, 0, 0x5100, 40, 0, 0);
  pdesc(0x5000, 1, 0x7ff0, 32, 0, 0);
  pdesc(0x5000, 2, 0x5300, 24, WRITE, 0);
  return [['ring-direct-and-indirect', img.seed(7, [0x00, 0x41, 0x01, 0x85, 0x01, 0x40])]];
}

/**
 * virtio-pci seeds: a well-behaved driver's init (every PCI config and BAR access it makes,
 * recorded as the target's 8-byte operations) then requests through the target's own
 * request step; and the same with the init as the target's macro step.
 */
function pciSeeds(): [string, Uint8Array][] {
  const ops: number[] = [];
  const rig = new PciRig();
  const driver = new PciDriver(rig);
  const fn = rig.fn;
  const rec = (op: number, width: number, offset: number, value: number): void => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    b[0] = op;
    b[1] = width === 1 ? 0 : width === 2 ? 1 : 2;
    dv.setUint16(2, offset, true);
    dv.setUint32(4, value >>> 0, true);
    ops.push(...b);
  };
  const { configWrite, barWrite, barRead } = { configWrite: fn.configWrite.bind(fn), barWrite: fn.barWrite.bind(fn), barRead: fn.barRead.bind(fn) };
  fn.configWrite = (o, w, v) => (rec(1, w, o, v), configWrite(o, w, v));
  fn.barWrite = (o, w, v) => (rec(3, w, o, v), barWrite(o, w, v));
  fn.barRead = (o, w) => (rec(2, w, o, 0), barRead(o, w));
  if (!driver.init()) throw new Error('pci seed: init failed');
  const request = [6, 0, 0, 0, 0, 0, 0, 0];
  return [
    ['driver-init-registers-then-requests', Uint8Array.from([...ops, ...request, ...request])],
    ['driver-init-macro-then-requests', Uint8Array.from([5, 0, 0, 0, 0, 0, 0, 0, ...request, ...request, ...request])],
  ];
}

async function main(): Promise<void> {
  for (const t of ['device-2d', 'device-3d', 'decode', 'split-chain', 'packed-chain', 'virtio-pci']) clearNamed(t);
  for (const [name, data] of pciSeeds()) write('virtio-pci', name, data);
  const demo2d = await recordSession(new Renderer2D(), undefined, (d) => demo(d, 3));
  const demoOn3d = await recordSession(r3d(), undefined, (d) => demo(d, 1));
  const region = new FakeRegion(1n << 20n);
  const s3d = await recordSession(r3d(), region, session3d);
  write('device-2d', 'demo-3-frames', encodeStream(demo2d));
  write('device-3d', 'demo-1-frame', encodeStream(demoOn3d));
  write('device-3d', 'session-3d-blob-context', encodeStream(s3d));
  const seen = new Set<number>();
  for (const r of [...demo2d, ...s3d]) {
    const type = r.bytes.length >= 4 ? new DataView(r.bytes.buffer, r.bytes.byteOffset).getUint32(0, true) : -1;
    if (seen.has(type)) continue;
    seen.add(type);
    write('decode', `cmd-${(P.commandName(type) ?? String(type)).replace('VIRTIO_GPU_CMD_', '').toLowerCase()}`, Uint8Array.from([0, 0, ...r.bytes]));
  }
  for (const [name, resp] of responses()) {
    const b = new Uint8Array(P.responseSize(resp));
    P.encodeResponse(resp, b, 0);
    write('decode', `resp-${name}`, Uint8Array.from([1, 0, ...b]));
  }
  for (const [name, data] of splitSeeds()) write('split-chain', name, data);
  for (const [name, data] of packedSeeds()) write('packed-chain', name, data);
  console.log(`seeds: device-2d ${demo2d.length} chains, device-3d ${demoOn3d.length} + ${s3d.length} chains, decode ${seen.size} commands + ${responses().length} responses`);
}

await main();
