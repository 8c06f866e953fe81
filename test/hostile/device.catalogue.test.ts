/**
 * The hostile-guest catalogue for the device and its virtqueues (the transports' catalogues
 * join as they land on main: see docs/hostile.md). Each case is named for what the guest does
 * and what it gets; each states the exact response or queue state, and after each the device
 * must still serve (`healthy`) or, after ring corruption, serve again once the transport resets
 * it (`resetAndHealthy`), with nothing left behind. Cases marked (fuzz) came from the fuzzers.
 */
import * as P from '@virtio-gpu/protocol';
import { Backing, RESOURCE_HOST_BYTES } from '@virtio-gpu/device';
import { describe, expect, it } from 'vitest';
import { FakeRegion } from '../../packages/device/test/fake-renderer';
import { TestRenderer3D, fill3d } from '../support/renderer3d';
import { HostileRig, RAM_BASE, RAM_BYTES, cmd2d, enc, hdr } from './rig';

const T = P;
const OK = P.VIRTIO_GPU_RESP_OK_NODATA;
const UNSPEC = P.VIRTIO_GPU_RESP_ERR_UNSPEC;
const PARAM = P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
const NEXT = 1;
const WRITE = 2;
const INDIRECT = 4;

interface Case {
  name: string;
  rig?: () => HostileRig;
  run: (r: HostileRig) => void | Promise<void>;
  /** 'serve': the same device and rings go on serving; 'reset': the device needs (and survives) a reset. */
  after: 'serve' | 'reset';
}

function rig3d(mode: 'sync' | 'manual' = 'sync', extra: Partial<ConstructorParameters<typeof HostileRig>[0]> = {}): HostileRig {
  const r = new TestRenderer3D();
  r.mode = { kind: mode };
  return new HostileRig({ renderer: r, hostVisible: new FakeRegion(1n << 20n), ...extra });
}
const renderer3d = (r: HostileRig) => r.device.renderer as TestRenderer3D;

/** A data area of guest RAM the driver does not use, for raw chains. */
function area(r: HostileRig): number {
  return r.ram.alloc(0x10000);
}

/** A readable GET_DISPLAY_INFO request at `at`. */
function request(r: HostileRig, at: number): void {
  r.ram.write(at, enc({ type: T.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: hdr(T.VIRTIO_GPU_CMD_GET_DISPLAY_INFO) } as P.Command));
}

/** Kick the control queue and expect it broken with `kind`, the device needing reset and a config interrupt. */
function expectBroken(r: HostileRig, kind: string): void {
  r.device.notify(0);
  expect(r.queues[0].broken?.kind).toBe(kind);
  expect(r.device.needsReset).toBe(true);
  expect(r.interrupts).toContain('config');
  // Further kicks do nothing: the queue stays stopped until the reset.
  r.device.notify(0);
  expect(r.driver.outstanding).toBe(0);
}

/** A raw chain of `descs` from descriptor 0, published; the request is GET_DISPLAY_INFO at `at`. */
function rawChain(r: HostileRig, descs: [addr: number, len: number, flags: number, next: number][]): void {
  descs.forEach(([a, l, f, n], i) => r.desc(0, i, a, l, f, n));
  r.publishRaw(0, 0);
}

function attach(id: number, entries: P.MemEntry[], nrEntries = entries.length): P.Command {
  return { type: T.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), resourceId: id, nrEntries, entries } as P.Command;
}
function ctxCreate(ctx: number, name: string, init = P.VIRTIO_GPU_CAPSET_VIRGL2): P.Command {
  return { type: T.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(T.VIRTIO_GPU_CMD_CTX_CREATE, { ctxId: ctx }), nlen: new TextEncoder().encode(name).length, contextInit: init, debugName: name } as P.Command;
}
function submit(ctx: number, data: Uint8Array, h: Partial<P.CtrlHdr> = {}): P.Command {
  return { type: T.VIRTIO_GPU_CMD_SUBMIT_3D, hdr: hdr(T.VIRTIO_GPU_CMD_SUBMIT_3D, { ctxId: ctx, ...h }), size: data.length, padding: 0, data } as P.Command;
}
const displayInfo = (h: Partial<P.CtrlHdr> = {}) => ({ type: T.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: hdr(T.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, h) }) as P.Command;
const flush = (id: number) => ({ type: T.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_FLUSH), r: { x: 0, y: 0, width: 1, height: 1 }, resourceId: id, padding: 0 }) as P.Command;
const unref = (id: number) => ({ type: T.VIRTIO_GPU_CMD_RESOURCE_UNREF, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_UNREF), resourceId: id, padding: 0 }) as P.Command;
const u32At = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

const ringCases: Case[] = [
  {
    name: 'avail idx moved 65 past the last seen on a 64-entry ring -> queue broken (avail-index), DEVICE_NEEDS_RESET',
    after: 'reset',
    run: (r) => {
      r.publishRaw(0, 0, 65);
      expectBroken(r, 'avail-index');
    },
  },
  {
    name: 'avail ring names head 64 on a 64-entry ring -> queue broken (head-index)',
    after: 'reset',
    run: (r) => {
      r.publishRaw(0, 64);
      expectBroken(r, 'head-index');
    },
  },
  {
    name: 'descriptor next = 64 on a 64-entry table -> queue broken (next-index)',
    after: 'reset',
    run: (r) => {
      const a = area(r);
      request(r, a);
      rawChain(r, [[a, 24, NEXT, 64]]);
      expectBroken(r, 'next-index');
    },
  },
  {
    name: 'descriptor chain that loops onto itself -> queue broken (chain-loop), the walk bounded by the table size',
    after: 'reset',
    run: (r) => {
      const a = area(r);
      request(r, a);
      rawChain(r, [[a, 24, NEXT, 0]]);
      expectBroken(r, 'chain-loop');
    },
  },
  {
    name: 'indirect table holding an INDIRECT descriptor -> queue broken (nested-indirect)',
    after: 'reset',
    run: (r) => {
      const a = area(r);
      request(r, a);
      r.desc(0, 0, a, 24, INDIRECT, 0, a + 0x1000);
      rawChain(r, [[a + 0x1000, 16, INDIRECT, 0]]);
      expectBroken(r, 'nested-indirect');
    },
  },
  {
    name: 'INDIRECT together with NEXT -> queue broken (indirect-next)',
    after: 'reset',
    run: (r) => {
      const a = area(r);
      rawChain(r, [[a + 0x1000, 16, INDIRECT | NEXT, 1], [a, 24, 0, 0]]);
      expectBroken(r, 'indirect-next');
    },
  },
  {
    name: 'indirect table of length 0 -> queue broken (indirect-length)',
    after: 'reset',
    run: (r) => {
      rawChain(r, [[area(r), 0, INDIRECT, 0]]);
      expectBroken(r, 'indirect-length');
    },
  },
  {
    name: 'indirect table of 17 bytes (not a multiple of 16) -> queue broken (indirect-length)',
    after: 'reset',
    run: (r) => {
      rawChain(r, [[area(r), 17, INDIRECT, 0]]);
      expectBroken(r, 'indirect-length');
    },
  },
  {
    name: 'indirect table longer than the queue size (65 entries) -> queue broken (indirect-length)',
    after: 'reset',
    run: (r) => {
      rawChain(r, [[area(r), 16 * 65, INDIRECT, 0]]);
      expectBroken(r, 'indirect-length');
    },
  },
  {
    name: 'indirect table outside guest RAM -> queue broken (unmapped)',
    after: 'reset',
    run: (r) => {
      rawChain(r, [[RAM_BASE + RAM_BYTES, 32, INDIRECT, 0]]);
      expectBroken(r, 'unmapped');
    },
  },
  {
    name: 'a buffer of length 0 -> queue broken (zero-length)',
    after: 'reset',
    run: (r) => {
      const a = area(r);
      request(r, a);
      rawChain(r, [[a, 24, NEXT, 1], [a + 0x100, 0, WRITE, 0]]);
      expectBroken(r, 'zero-length');
    },
  },
  {
    name: 'a buffer at address 2^64 - 4096 -> queue broken (unmapped)',
    after: 'reset',
    run: (r) => {
      const a = area(r);
      rawChain(r, [[a, 24, NEXT, 1], [0, 24, WRITE, 0]]);
      // The high half of the address: 0xffffffff.
      const at = r.driver.queues[0].ring.layout.descAddr + 16;
      r.ram.write(at, new Uint8Array([0x00, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
      expectBroken(r, 'unmapped');
    },
  },
  {
    name: 'a buffer running past the end of guest RAM -> queue broken (unmapped)',
    after: 'reset',
    run: (r) => {
      rawChain(r, [[RAM_BASE + RAM_BYTES - 8, 24, 0, 0]]);
      expectBroken(r, 'unmapped');
    },
  },
  {
    name: 'a device-readable buffer after a device-writable one -> queue broken (read-after-write)',
    after: 'reset',
    run: (r) => {
      const a = area(r);
      request(r, a);
      rawChain(r, [[a + 0x100, 64, WRITE | NEXT, 1], [a, 24, 0, 0]]);
      expectBroken(r, 'read-after-write');
    },
  },
  {
    name: 'an indirect table of 2049 readable 2 MiB buffers aliasing all of guest RAM (over 2^32 bytes) -> queue broken (chain-too-long)',
    rig: () => new HostileRig({ queueSize: 4096 }),
    after: 'reset',
    run: (r) => {
      const table = r.ram.alloc(16 * 2049);
      for (let i = 0; i < 2049; i++) r.desc(0, i, RAM_BASE, RAM_BYTES, i < 2048 ? NEXT : 0, i + 1, table);
      rawChain(r, [[table, 16 * 2049, INDIRECT, 0]]);
      expectBroken(r, 'chain-too-long');
    },
  },
  {
    name: 'a chain of 2047 aliasing 2 MiB buffers (4 GiB - 2 MiB of "request") -> read only up to maxCommandBytes, answered ERR_UNSPEC',
    rig: () => new HostileRig({ queueSize: 4096, limits: { maxCommandBytes: 1 << 20 } }),
    after: 'serve',
    run: (r) => {
      const table = r.ram.alloc(16 * 2048);
      const resp = r.ram.alloc(4096);
      for (let i = 0; i < 2047; i++) r.desc(0, i, RAM_BASE, RAM_BYTES, NEXT, i + 1, table);
      r.desc(0, 2047, resp, 64, WRITE, 0, table);
      // Whatever RAM holds at RAM_BASE is the "command": make it an unknown type.
      r.ram.write(RAM_BASE, new Uint8Array([0xee, 0xee, 0, 0]));
      rawChain(r, [[table, 16 * 2048, INDIRECT, 0]]);
      r.raw = true;
      r.device.notify(0);
      expect(r.queues[0].broken).toBeNull();
      expect(u32At(r.ram.bytes(resp, 4), 0)).toBe(UNSPEC);
      // The raw chain bypassed the driver's bookkeeping: the transport resets before the next round.
      r.device.reset();
      r.attach();
    },
  },
];

const chainCases: Case[] = [
  {
    name: 'response space of 8 bytes -> ERR_UNSPEC truncated to the 8 bytes there are',
    after: 'serve',
    run: (r) => {
      const a = r.send(displayInfo(), 8)!;
      expect(a.len).toBe(8);
      expect(u32At(a.bytes, 0)).toBe(UNSPEC);
    },
  },
  {
    name: 'no device-writable buffer at all -> chain returned with 0 bytes written',
    after: 'serve',
    run: (r) => {
      const a = r.send(displayInfo(), 0)!;
      expect(a.len).toBe(0);
    },
  },
  {
    name: 'GET_DISPLAY_INFO with only 24 writable bytes (needs 408) -> ERR_UNSPEC, not a truncated display info',
    after: 'serve',
    run: (r) => {
      const a = r.send(displayInfo(), 24)!;
      expect(a.len).toBe(24);
      expect(a.type).toBe(UNSPEC);
    },
  },
  { name: 'a 1-byte request -> ERR_UNSPEC', after: 'serve', run: (r) => expect(r.type(new Uint8Array([1]))).toBe(UNSPEC) },
  { name: 'command type 0 -> ERR_UNSPEC', after: 'serve', run: (r) => expect(r.type(new Uint8Array(24))).toBe(UNSPEC) },
  { name: 'command type 2^32-1 -> ERR_UNSPEC', after: 'serve', run: (r) => expect(r.type(new Uint8Array(24).fill(0xff))).toBe(UNSPEC) },
  {
    name: 'a response type (OK_NODATA) sent as a command -> ERR_UNSPEC',
    after: 'serve',
    run: (r) => {
      const b = new Uint8Array(24);
      new DataView(b.buffer).setUint32(0, OK, true);
      expect(r.type(b)).toBe(UNSPEC);
    },
  },
  { name: 'GET_DISPLAY_INFO on the cursor queue -> ERR_UNSPEC', after: 'serve', run: (r) => expect(r.type(displayInfo(), 1536, 1)).toBe(UNSPEC) },
  {
    name: 'MOVE_CURSOR on the control queue -> ERR_UNSPEC',
    after: 'serve',
    run: (r) => expect(r.type({ type: T.VIRTIO_GPU_CMD_MOVE_CURSOR, hdr: hdr(T.VIRTIO_GPU_CMD_MOVE_CURSOR), pos: { scanoutId: 0, x: 1, y: 1, padding: 0 }, resourceId: 0, hotX: 0, hotY: 0, padding: 0 } as P.Command)).toBe(UNSPEC),
  },
  {
    name: 'unknown flag bits 0xfffffffc in the header -> ignored, GET_DISPLAY_INFO answered OK_DISPLAY_INFO with flags 0',
    after: 'serve',
    run: (r) => {
      const a = r.send(displayInfo({ flags: 0xffff_fffc }))!;
      expect(a.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
      expect(u32At(a.bytes, 4)).toBe(0);
    },
  },
  {
    name: 'fence id 2^64-1 -> OK with FLAG_FENCE and the fence id echoed',
    after: 'serve',
    run: (r) => {
      const a = r.send(displayInfo({ flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: (1n << 64n) - 1n }))!;
      expect(a.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
      expect(u32At(a.bytes, 4)).toBe(P.VIRTIO_GPU_FLAG_FENCE);
      expect(new DataView(a.bytes.buffer).getBigUint64(8, true)).toBe((1n << 64n) - 1n);
    },
  },
  {
    name: 'fence ids going backwards (9, 3, 1) -> each answered at once, in ring order, with its own id',
    after: 'serve',
    run: (r) => {
      for (const id of [9n, 3n, 1n]) {
        const a = r.send(displayInfo({ flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: id }))!;
        expect(new DataView(a.bytes.buffer).getBigUint64(8, true)).toBe(id);
      }
    },
  },
  {
    name: 'INFO_RING_IDX without VIRTIO_GPU_F_CONTEXT_INIT negotiated -> ERR_INVALID_PARAMETER',
    rig: () => rig3d('sync', { features: 0n }),
    after: 'serve',
    run: (r) => expect(r.type(displayInfo({ flags: P.VIRTIO_GPU_FLAG_FENCE | P.VIRTIO_GPU_FLAG_INFO_RING_IDX, fenceId: 1n, ctxId: 1, ringIdx: 0 }))).toBe(PARAM),
  },
];

const resourceCases: Case[] = [
  {
    name: 'ATTACH_BACKING with nr_entries 2^32-1 and one entry sent -> ERR_UNSPEC (undecodable), nothing attached',
    after: 'serve',
    run: (r) => {
      expect(r.type(cmd2d(1, 4, 4))).toBe(OK);
      const b = enc(attach(1, [{ addr: BigInt(RAM_BASE), length: 64 }]));
      new DataView(b.buffer).setUint32(28, 0xffff_ffff, true);
      expect(r.type(b)).toBe(UNSPEC);
      expect(r.device.hostBytesUsed).toBe(64 + RESOURCE_HOST_BYTES);
    },
  },
  {
    name: 'ATTACH_BACKING of 16384 entries over a nearly full quota -> ERR_OUT_OF_MEMORY before any entry is looked at (all unmapped here), quota unchanged',
    rig: () => new HostileRig({ limits: { hostMemoryBytes: 64 + RESOURCE_HOST_BYTES + Backing.hostBytesFor(16383) } }),
    after: 'serve',
    run: (r) => {
      expect(r.type(cmd2d(1, 4, 4))).toBe(OK);
      const entries = Array.from({ length: 16384 }, (_, i) => ({ addr: BigInt(0x10_0000_0000 + 2 * i), length: 1 }));
      expect(r.type(attach(1, entries))).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
      expect(r.device.hostBytesUsed).toBe(64 + RESOURCE_HOST_BYTES);
      expect(r.type(unref(1))).toBe(OK);
    },
  },
  {
    name: 'CREATE_BLOB (guest) of 16384 entries over a nearly full quota -> ERR_OUT_OF_MEMORY before any entry is looked at (all unmapped here), nothing created',
    rig: () => new HostileRig({ limits: { hostMemoryBytes: 4096 + RESOURCE_HOST_BYTES + Backing.hostBytesFor(16383) } }),
    after: 'serve',
    run: (r) => {
      const entries = Array.from({ length: 16384 }, (_, i) => ({ addr: BigInt(0x10_0000_0000 + 2 * i), length: 1 }));
      const blob = { type: T.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB), resourceId: 1, blobMem: P.VIRTIO_GPU_BLOB_MEM_GUEST, blobFlags: 0, nrEntries: entries.length, blobId: 0n, size: 4096n, entries } as P.Command;
      expect(r.type(blob)).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
      expect(r.device.resourceCount).toBe(0);
      expect(r.device.hostBytesUsed).toBe(0);
    },
  },
  {
    name: 'ATTACH_BACKING of 16384 one-byte entries all at one address -> OK, charged 16384 runs exactly (Backing.hostBytesFor)',
    after: 'serve',
    run: (r) => {
      expect(r.type(cmd2d(1, 1, 1))).toBe(OK);
      const page = r.ram.alloc(4096);
      const entries = Array.from({ length: 16384 }, () => ({ addr: BigInt(page), length: 1 }));
      expect(r.type(attach(1, entries))).toBe(OK);
      expect(r.device.hostBytesUsed).toBe(4 + RESOURCE_HOST_BYTES + Backing.hostBytesFor(16384));
      expect(r.type(unref(1))).toBe(OK);
      expect(r.device.hostBytesUsed).toBe(0);
    },
  },
  {
    name: 'ATTACH_BACKING over the driver\'s own rings, then TRANSFER_TO_HOST_2D from them -> OK, the rings untouched and the queue intact',
    after: 'serve',
    run: (r) => {
      const l = r.driver.queues[0].ring.layout;
      expect(r.type(cmd2d(1, 16, 16))).toBe(OK);
      expect(r.type(attach(1, [{ addr: BigInt(l.descAddr), length: 1024 }]))).toBe(OK);
      // Place the transfer, then note the table as the device will read it (the transfer's own chain included).
      expect(r.driver.submit(0, enc({ type: T.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr: hdr(T.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r: { x: 0, y: 0, width: 16, height: 16 }, offset: 0n, resourceId: 1, padding: 0 } as P.Command), 64)).toBe(true);
      const table = r.ram.bytes(l.descAddr, 1024).slice();
      r.device.notify(0);
      expect(r.driver.trace!.at(-1)!.type).toBe(OK);
      expect(r.type({ type: T.VIRTIO_GPU_CMD_SET_SCANOUT, hdr: hdr(T.VIRTIO_GPU_CMD_SET_SCANOUT), r: { x: 0, y: 0, width: 16, height: 16 }, scanoutId: 0, resourceId: 1 } as P.Command)).toBe(OK);
      const px = new Uint8Array(16 * 16 * 4);
      expect(r.device.readScanout(0, { x: 0, y: 0, width: 16, height: 16 }, px, 64)).toBe(true);
      // B8G8R8A8 in memory reads back as RGBA8: the resource holds the table's bytes.
      const want = new Uint8Array(1024);
      for (let i = 0; i < 1024; i += 4) want.set([table[i + 2], table[i + 1], table[i], table[i + 3]], i);
      expect(px).toEqual(want);
      expect(r.type(unref(1))).toBe(OK);
    },
  },
  {
    name: 'resources up to maxResources (4) then one more -> ERR_OUT_OF_MEMORY; unref frees the slot',
    rig: () => new HostileRig({ limits: { maxResources: 4 } }),
    after: 'serve',
    run: (r) => {
      for (let id = 1; id <= 4; id++) expect(r.type(cmd2d(id, 1, 1))).toBe(OK);
      expect(r.type(cmd2d(5, 1, 1))).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
      for (let id = 1; id <= 4; id++) expect(r.type(unref(id))).toBe(OK);
    },
  },
  {
    name: 'creating 1x1 resources until the quota refuses: each is charged RESOURCE_HOST_BYTES besides its 4 pixel bytes',
    rig: () => new HostileRig({ limits: { hostMemoryBytes: 10 * (4 + RESOURCE_HOST_BYTES) } }),
    after: 'serve',
    run: (r) => {
      let made = 0;
      while (r.type(cmd2d(100 + made, 1, 1)) === OK) made++;
      expect(made).toBe(10);
      for (let i = 0; i < made; i++) expect(r.type(unref(100 + i))).toBe(OK);
    },
  },
  {
    name: 'UNREF of the resource shown on scanout 0 -> OK, the scanout is disabled (a later flush of it is ERR_INVALID_RESOURCE_ID)',
    after: 'serve',
    run: (r) => {
      expect(r.type(cmd2d(1, 64, 48))).toBe(OK);
      expect(r.type(attach(1, [{ addr: BigInt(r.ram.alloc(64 * 48 * 4)), length: 64 * 48 * 4 }]))).toBe(OK);
      expect(r.type({ type: T.VIRTIO_GPU_CMD_SET_SCANOUT, hdr: hdr(T.VIRTIO_GPU_CMD_SET_SCANOUT), r: { x: 0, y: 0, width: 64, height: 48 }, scanoutId: 0, resourceId: 1 } as P.Command)).toBe(OK);
      expect(r.type(unref(1))).toBe(OK);
      expect(r.device.scanout(0)?.resourceId).toBe(0);
      expect(r.type(flush(1))).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    },
  },
];

const threeDCases: Case[] = [
  {
    name: 'SUBMIT_3D whose size field is larger than the bytes sent -> ERR_UNSPEC (undecodable)',
    rig: () => rig3d(),
    after: 'serve',
    run: (r) => {
      expect(r.type(ctxCreate(1, 'c'))).toBe(OK);
      const b = enc(submit(1, new Uint8Array(8)));
      new DataView(b.buffer).setUint32(24, 9, true);
      expect(r.type(b)).toBe(UNSPEC);
    },
  },
  {
    name: 'SUBMIT_3D with size 2^32-1 -> ERR_UNSPEC, nothing allocated for it',
    rig: () => rig3d(),
    after: 'serve',
    run: (r) => {
      expect(r.type(ctxCreate(1, 'c'))).toBe(OK);
      const b = enc(submit(1, new Uint8Array(8)));
      new DataView(b.buffer).setUint32(24, 0xffff_ffff, true);
      expect(r.type(b)).toBe(UNSPEC);
      expect(renderer3d(r).submits.length).toBe(0);
    },
  },
  {
    name: 'CTX_CREATE with nlen 65 -> ERR_UNSPEC (undecodable)',
    rig: () => rig3d(),
    after: 'serve',
    run: (r) => {
      const b = enc(ctxCreate(1, 'c'));
      new DataView(b.buffer).setUint32(24, 65, true);
      expect(r.type(b)).toBe(UNSPEC);
    },
  },
  {
    name: '(fuzz) CTX_CREATE with a 64-byte debug_name of invalid UTF-8 -> OK; the name reads "?" x 64 and the command still encodes; snapshot keeps it',
    rig: () => rig3d(),
    after: 'serve',
    run: (r) => {
      const b = enc(ctxCreate(1, ''));
      new DataView(b.buffer).setUint32(24, 64, true);
      b.fill(0xff, 32, 96);
      expect(r.type(b)).toBe(OK);
      const d = P.decodeCommand(b);
      expect(d.ok && d.cmd.type === T.VIRTIO_GPU_CMD_CTX_CREATE && d.cmd.debugName).toBe('?'.repeat(64));
      if (d.ok) expect(() => P.encodeCommand(d.cmd, new Uint8Array(P.commandSize(d.cmd)))).not.toThrow();
      expect(structuredClone(r.device.snapshot()).contexts[0].debugName).toBe('?'.repeat(64));
    },
  },
  {
    name: 'contexts up to maxContexts (2) then one more -> ERR_OUT_OF_MEMORY',
    rig: () => rig3d('sync', { limits: { maxContexts: 2 } }),
    after: 'serve',
    run: (r) => {
      expect(r.type(ctxCreate(1, 'a'))).toBe(OK);
      expect(r.type(ctxCreate(2, 'b'))).toBe(OK);
      expect(r.type(ctxCreate(3, 'c'))).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    },
  },
  {
    name: 'a fence on ring 64 (rings are 0..63) -> ERR_INVALID_PARAMETER',
    rig: () => rig3d(),
    after: 'serve',
    run: (r) => {
      expect(r.type(ctxCreate(1, 'c'))).toBe(OK);
      expect(r.type(submit(1, new Uint8Array(4), { flags: P.VIRTIO_GPU_FLAG_FENCE | P.VIRTIO_GPU_FLAG_INFO_RING_IDX, fenceId: 1n, ringIdx: 64 }))).toBe(PARAM);
    },
  },
  {
    name: 'a fence on a ring of an unknown context -> ERR_INVALID_CONTEXT_ID',
    rig: () => rig3d(),
    after: 'serve',
    run: (r) => expect(r.type(displayInfo({ flags: P.VIRTIO_GPU_FLAG_FENCE | P.VIRTIO_GPU_FLAG_INFO_RING_IDX, fenceId: 1n, ctxId: 9, ringIdx: 0 }))).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID),
  },
  {
    name: 'CTX_DESTROY while fenced submits wait on its rings -> the held chains are answered OK (fence echoed) at the destroy',
    rig: () => rig3d('manual'),
    after: 'serve',
    run: (r) => {
      expect(r.type(ctxCreate(1, 'c'))).toBe(OK);
      for (let ring = 0; ring < 3; ring++) {
        expect(r.send(submit(1, new Uint8Array(4), { flags: P.VIRTIO_GPU_FLAG_FENCE | P.VIRTIO_GPU_FLAG_INFO_RING_IDX, fenceId: BigInt(10 + ring), ringIdx: ring }))).toBeNull();
      }
      expect(r.device.pendingCount).toBe(3);
      expect(r.type({ type: T.VIRTIO_GPU_CMD_CTX_DESTROY, hdr: hdr(T.VIRTIO_GPU_CMD_CTX_DESTROY, { ctxId: 1 }) } as P.Command)).toBe(OK);
      expect(r.device.pendingCount).toBe(0);
      expect(r.driver.outstanding).toBe(0);
      expect(r.driver.trace!.filter((t) => t.type === OK).length).toBeGreaterThanOrEqual(4);
    },
  },
  {
    name: 'fences that never retire fill the control queue -> the device holds at most the ring\'s chains; reset answers nothing late and frees them',
    rig: () => rig3d('manual'),
    after: 'reset',
    run: (r) => {
      expect(r.type(ctxCreate(1, 'c'))).toBe(OK);
      let held = 0;
      while (r.driver.submit(0, enc(submit(1, fill3d(0, 0).subarray(0, 4), { flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: BigInt(100 + held) })), 64)) held++;
      r.device.notify(0);
      expect(held).toBe(32);
      expect(r.device.pendingCount).toBe(32);
      r.device.reset();
      expect(r.device.pendingCount).toBe(0);
      renderer3d(r).pendingFences.splice(0).forEach((f) => renderer3d(r).retireNow(f));
      expect(r.driver.trace!.length).toBe(1);
    },
  },
  {
    name: 'MAP_BLOB overlapping another mapped blob -> ERR_INVALID_PARAMETER; the first mapping stays',
    rig: () => rig3d(),
    after: 'serve',
    run: (r) => {
      expect(r.type(ctxCreate(1, 'c'))).toBe(OK);
      for (const id of [1, 2]) {
        expect(r.type({ type: T.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, { ctxId: 1 }), resourceId: id, blobMem: P.VIRTIO_GPU_BLOB_MEM_HOST3D, blobFlags: P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, nrEntries: 0, blobId: 1n, size: 8192n, entries: [] } as P.Command)).toBe(OK);
      }
      const map = (id: number, offset: bigint) => ({ type: T.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB), resourceId: id, padding: 0, offset }) as P.Command;
      expect(r.type(map(1, 0x1000n))).toBe(P.VIRTIO_GPU_RESP_OK_MAP_INFO);
      expect(r.type(map(2, 0x2000n))).toBe(PARAM);
      expect((r.o.hostVisible as FakeRegion).maps.size).toBe(1);
    },
  },
  {
    name: 'UNMAP_BLOB the region does not confirm yet -> the control queue pauses; later commands are answered, in order, after the confirmation',
    rig: () => {
      const region = new FakeRegion(1n << 20n);
      region.async = true;
      const t = new TestRenderer3D();
      return new HostileRig({ renderer: t, hostVisible: region });
    },
    after: 'serve',
    run: async (r) => {
      const region = r.o.hostVisible as FakeRegion;
      expect(r.type(ctxCreate(1, 'c'))).toBe(OK);
      expect(r.type({ type: T.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, { ctxId: 1 }), resourceId: 1, blobMem: P.VIRTIO_GPU_BLOB_MEM_HOST3D, blobFlags: P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, nrEntries: 0, blobId: 1n, size: 4096n, entries: [] } as P.Command)).toBe(OK);
      expect(r.type({ type: T.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB), resourceId: 1, padding: 0, offset: 0n } as P.Command)).toBe(P.VIRTIO_GPU_RESP_OK_MAP_INFO);
      expect(r.send({ type: T.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, hdr: hdr(T.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), resourceId: 1, padding: 0 } as P.Command)).toBeNull();
      expect(r.device.paused).toBe(true);
      expect(r.send(displayInfo())).toBeNull();
      await region.confirm();
      for (let i = 0; i < 5; i++) await Promise.resolve();
      const last = r.driver.trace!.slice(-2).map((t) => t.type);
      expect(last).toEqual([OK, P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO]);
      expect(r.device.paused).toBe(false);
    },
  },
];

const transportCases: Case[] = [
  {
    name: 'notify for queue 2, -1 and 0.5 -> ignored: nothing popped, no interrupt',
    after: 'serve',
    run: (r) => {
      r.driver.submit(0, enc(displayInfo()), 1536);
      for (const q of [2, -1, 0.5]) r.device.notify(q as 0);
      expect(r.driver.outstanding).toBe(1);
      expect(r.interrupts).toEqual([]);
      r.device.notify(0);
      expect(r.driver.outstanding).toBe(0);
    },
  },
  {
    name: 'a kick with nothing available -> no interrupt, nothing changes',
    after: 'serve',
    run: (r) => {
      r.device.notify(0);
      r.device.notify(1);
      expect(r.interrupts).toEqual([]);
    },
  },
  {
    name: 'a full ring of failing commands with chainsPerTurn 8 -> answered over later event-loop turns, every chain once, in ring order',
    rig: () => new HostileRig({ limits: { chainsPerTurn: 8 } }),
    after: 'serve',
    run: async (r) => {
      let n = 0;
      while (r.driver.submit(0, enc(flush(50 + n)), 24)) n++;
      r.device.notify(0);
      expect(r.driver.outstanding).toBe(n - 8);
      while (r.driver.outstanding > 0) await new Promise((res) => setImmediate(res));
      // The turn that ran out of budget on the last chain scheduled one more, which finds nothing.
      await new Promise((res) => setImmediate(res));
      const heads = r.driver.trace!.map((t) => t.type);
      expect(heads).toEqual(new Array(n).fill(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID));
    },
  },
  {
    name: 'config writes to read-only fields (events_read, num_scanouts, num_capsets) -> ignored; events_clear clears only set bits',
    after: 'serve',
    run: (r) => {
      const before = [0, 4, 8, 12].map((o) => r.device.readConfig(o, 4));
      for (const o of [0, 8, 12]) r.device.writeConfig(o, 4, 0xffff_ffff);
      expect([0, 4, 8, 12].map((o) => r.device.readConfig(o, 4))).toEqual(before);
      r.device.resizeScanout(0, 32, 32);
      expect(r.device.readConfig(0, 4)).toBe(P.VIRTIO_GPU_EVENT_DISPLAY);
      r.device.writeConfig(4, 4, 0xffff_ffff);
      expect(r.device.readConfig(0, 4)).toBe(0);
    },
  },
  {
    name: 'config reads past struct virtio_gpu_config and of odd sizes -> a number, never a throw',
    after: 'serve',
    run: (r) => {
      for (const [o, s] of [[16, 4], [64, 4], [1 << 20, 4], [3, 1], [2, 2], [0, 8], [-4, 4]]) expect(typeof r.device.readConfig(o, s)).toBe('number');
    },
  },
  {
    name: 'a kick before the driver set DRIVER_OK (no queues attached) -> ignored; after attach the chains are answered',
    rig: () => {
      const r = new HostileRig();
      r.device.reset(); // forgets the queues, as a reset before DRIVER_OK does
      return r;
    },
    after: 'serve',
    run: (r) => {
      r.driver.submit(0, enc(displayInfo()), 1536);
      r.device.notify(0);
      expect(r.driver.outstanding).toBe(1);
      r.attach();
    },
  },
];

const catalogue = [...ringCases, ...chainCases, ...resourceCases, ...threeDCases, ...transportCases];

describe(`hostile guests against the device (${catalogue.length} cases)`, () => {
  it('the catalogue has at least 40 named cases', () => expect(catalogue.length).toBeGreaterThanOrEqual(40));
  for (const c of catalogue) {
    it(c.name, async () => {
      const r = c.rig ? c.rig() : new HostileRig();
      await c.run(r);
      expect(r.log.filter((l) => /internal error|threw/.test(l))).toEqual([]);
      if (c.after === 'reset') r.resetAndHealthy();
      else r.healthy();
    });
  }
});
