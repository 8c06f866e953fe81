/**
 * Every error path through the real queues: the exact VIRTIO_GPU_RESP_ERR_* a guest gets, that
 * nothing was half-done, and that the device keeps answering correct commands afterwards (each
 * case ends with a health check on the same rig: the queues are not broken, no reset is needed,
 * and a create/flush/unref round works).
 */
import * as P from '@virtio-gpu/protocol';
import { cmd, rect } from '@virtio-gpu/guest';
import { describe, expect, it } from 'vitest';
import { RESOURCE_HOST_BYTES } from '@virtio-gpu/device';
import { FakeRegion } from '../../packages/device/test/fake-renderer';
import { RAM_BASE, backed2d, buildGpu, sendOk, type Gpu, type GpuOptions } from '../support/gpu';
import { TestRenderer3D } from '../support/renderer3d';

const E = {
  UNSPEC: P.VIRTIO_GPU_RESP_ERR_UNSPEC,
  OOM: P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
  SCANOUT: P.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
  RESOURCE: P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
  CONTEXT: P.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
  PARAM: P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
};
const FMT = P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM;
const U32 = 0xffff_ffff;
let healthId = 5000;

/** The device still works: queues intact, and a full create/attach/transfer/flush/unref round is OK. */
async function expectHealthy(g: Gpu): Promise<void> {
  expect(g.queues[0].broken).toBeNull();
  expect(g.queues[1].broken).toBeNull();
  expect(g.device.needsReset).toBe(false);
  const id = healthId++;
  expect((await g.driver.send(cmd.getDisplayInfo())).type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  await backed2d(g, id, 4, 4, FMT, new Uint8Array(64));
  await sendOk(g, cmd.resourceFlush(id, rect(0, 0, 4, 4)));
  await sendOk(g, cmd.resourceUnref(id));
  await sendOk(g, cmd.moveCursor(0, 1, 1));
}

/** Three-D rig with context 1 and a host-visible region. */
function gpu3d(o: GpuOptions = {}): Gpu {
  return buildGpu({ renderer: new TestRenderer3D(), hostVisible: new FakeRegion(1n << 24n), ...o });
}

interface Case {
  name: string;
  want: number;
  rig?: () => Gpu;
  prep?: (g: Gpu) => Promise<void>;
  send: (g: Gpu) => Promise<P.Response>;
  /** Extra checks that nothing was allocated or changed. */
  after?: (g: Gpu) => Promise<void> | void;
}

const c2d = (id: number, w = 8, h = 8, f = FMT) => cmd.resourceCreate2d(id, f, w, h);
const send = (c: P.Command, o?: Parameters<Gpu['driver']['send']>[1]) => (g: Gpu) => g.driver.send(c, o);
const with2d = async (g: Gpu) => void (await backed2d(g, 1, 8, 8));
const ctx1 = async (g: Gpu) => sendOk(g, cmd.ctxCreate(1, 'c'));

const cases: Case[] = [
  // ---- RESOURCE_CREATE_2D
  { name: 'RESOURCE_CREATE_2D, id 0 -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(c2d(0)), after: (g) => expect(g.device.resourceCount).toBe(0) },
  { name: 'RESOURCE_CREATE_2D, id in use -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, prep: with2d, send: send(c2d(1, 16, 16)), after: (g) => expect(g.device.resourceCount).toBe(1) },
  { name: 'RESOURCE_CREATE_2D, format 0 -> ERR_INVALID_PARAMETER', want: E.PARAM, send: send(c2d(1, 8, 8, 0)) },
  { name: 'RESOURCE_CREATE_2D, format 5 (a gap in the enum) -> ERR_INVALID_PARAMETER', want: E.PARAM, send: send(c2d(1, 8, 8, 5)) },
  { name: 'RESOURCE_CREATE_2D, format 2^32-1 -> ERR_INVALID_PARAMETER', want: E.PARAM, send: send(c2d(1, 8, 8, U32)) },
  { name: 'RESOURCE_CREATE_2D, width 0 -> ERR_INVALID_PARAMETER', want: E.PARAM, send: send(c2d(1, 0, 8)) },
  { name: 'RESOURCE_CREATE_2D, height 0 -> ERR_INVALID_PARAMETER', want: E.PARAM, send: send(c2d(1, 8, 0)) },
  { name: 'RESOURCE_CREATE_2D, width 2^32-1 -> ERR_INVALID_PARAMETER', want: E.PARAM, send: send(c2d(1, U32, 1)) },
  {
    name: 'RESOURCE_CREATE_2D, 16384x16384 over the 256 MiB quota -> ERR_OUT_OF_MEMORY, nothing allocated',
    want: E.OOM,
    send: send(c2d(1, 16384, 16384)),
    after: async (g) => {
      expect(g.device.resourceCount).toBe(0);
      expect(g.device.hostBytesUsed).toBe(0);
      await sendOk(g, c2d(1, 1024, 1024));
    },
  },
  {
    name: 'RESOURCE_CREATE_2D, quota exhausted -> ERR_OUT_OF_MEMORY; a smaller one still fits',
    want: E.OOM,
    rig: () => buildGpu({ limits: { hostMemoryBytes: 64 * 64 * 4 + 4 * 4 * 4 } }),
    prep: async (g) => sendOk(g, c2d(1, 32, 32)),
    send: send(c2d(2, 64, 64)),
    after: async (g) => {
      expect(g.device.resourceCount).toBe(1);
      expect(g.device.hostBytesUsed).toBe(32 * 32 * 4 + RESOURCE_HOST_BYTES);
      await sendOk(g, c2d(2, 48, 48));
      await sendOk(g, cmd.resourceUnref(2));
    },
  },
  {
    name: 'RESOURCE_CREATE_2D, resource count limit -> ERR_OUT_OF_MEMORY',
    want: E.OOM,
    rig: () => buildGpu({ limits: { maxResources: 2 } }),
    prep: async (g) => {
      await sendOk(g, c2d(1));
      await sendOk(g, c2d(2));
    },
    send: send(c2d(3)),
    after: async (g) => {
      expect(g.device.resourceCount).toBe(2);
      await sendOk(g, cmd.resourceUnref(2));
    },
  },
  // ---- RESOURCE_UNREF
  { name: 'RESOURCE_UNREF, unknown id -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.resourceUnref(77)) },
  { name: 'RESOURCE_UNREF, id 0 -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.resourceUnref(0)) },
  { name: 'RESOURCE_UNREF, twice -> ERR_INVALID_RESOURCE_ID the second time', want: E.RESOURCE, prep: async (g) => { await with2d(g); await sendOk(g, cmd.resourceUnref(1)); }, send: send(cmd.resourceUnref(1)) },
  // ---- ATTACH / DETACH
  { name: 'RESOURCE_ATTACH_BACKING, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: (g) => g.driver.send(cmd.attachBacking(9, g.ram.allocScattered(4096))) },
  { name: 'RESOURCE_ATTACH_BACKING, backing already attached -> ERR_UNSPEC', want: E.UNSPEC, prep: with2d, send: (g) => g.driver.send(cmd.attachBacking(1, g.ram.allocScattered(256))) },
  {
    name: 'RESOURCE_ATTACH_BACKING, one entry outside guest RAM -> ERR_UNSPEC, nothing attached',
    want: E.UNSPEC,
    prep: async (g) => sendOk(g, c2d(1)),
    send: (g) => g.driver.send(cmd.attachBacking(1, [...g.ram.allocScattered(128), { addr: 0x1000n, length: 128 }])),
    after: async (g) => expect((await g.driver.send(cmd.transferToHost2d(1, rect(0, 0, 1, 1)))).type).toBe(E.UNSPEC),
  },
  {
    name: 'RESOURCE_ATTACH_BACKING, entry running past the end of RAM -> ERR_UNSPEC',
    want: E.UNSPEC,
    prep: async (g) => sendOk(g, c2d(1)),
    send: send(cmd.attachBacking(1, [{ addr: BigInt(RAM_BASE + (32 << 20) - 64), length: 256 }])),
  },
  {
    name: 'RESOURCE_ATTACH_BACKING, entry wrapping 2^64 -> ERR_UNSPEC',
    want: E.UNSPEC,
    prep: async (g) => sendOk(g, c2d(1)),
    send: send(cmd.attachBacking(1, [{ addr: 0xffff_ffff_ffff_f000n, length: 0x2000 }])),
  },
  {
    name: 'RESOURCE_ATTACH_BACKING, entry beyond 2^53 -> ERR_UNSPEC',
    want: E.UNSPEC,
    prep: async (g) => sendOk(g, c2d(1)),
    send: send(cmd.attachBacking(1, [{ addr: (1n << 53n) + BigInt(RAM_BASE), length: 256 }])),
  },
  {
    name: 'RESOURCE_ATTACH_BACKING, 16385 entries -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    prep: async (g) => sendOk(g, c2d(1)),
    send: (g) => {
      const page = g.ram.allocScattered(16)[0]!;
      return g.driver.send(cmd.attachBacking(1, Array.from({ length: 16385 }, () => ({ addr: page.addr, length: 16 }))));
    },
  },
  {
    name: 'RESOURCE_ATTACH_BACKING, nr_entries larger than the entries sent -> ERR_UNSPEC',
    want: E.UNSPEC,
    prep: async (g) => sendOk(g, c2d(1)),
    send: (g) => g.driver.send({ ...(cmd.attachBacking(1, g.ram.allocScattered(4096)) as object), nrEntries: 1000 } as P.Command),
  },
  { name: 'RESOURCE_DETACH_BACKING, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.detachBacking(4)) },
  { name: 'RESOURCE_DETACH_BACKING, no backing -> ERR_UNSPEC', want: E.UNSPEC, prep: async (g) => sendOk(g, c2d(1)), send: send(cmd.detachBacking(1)) },
  // ---- TRANSFER_TO_HOST_2D
  { name: 'TRANSFER_TO_HOST_2D, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.transferToHost2d(3, rect(0, 0, 1, 1))) },
  { name: 'TRANSFER_TO_HOST_2D, no backing -> ERR_UNSPEC', want: E.UNSPEC, prep: async (g) => sendOk(g, c2d(1)), send: send(cmd.transferToHost2d(1, rect(0, 0, 8, 8))) },
  { name: 'TRANSFER_TO_HOST_2D, rect past the right edge -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(4, 0, 5, 8))) },
  { name: 'TRANSFER_TO_HOST_2D, rect past the bottom -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(0, 8, 8, 1))) },
  { name: 'TRANSFER_TO_HOST_2D, x + width wrapping 2^32 -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(U32, 0, 2, 1))) },
  { name: 'TRANSFER_TO_HOST_2D, y + height wrapping 2^32 -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(0, 0xffff_fff0, 1, 0x20))) },
  { name: 'TRANSFER_TO_HOST_2D, offset one row too far -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(0, 0, 8, 8), 32)) },
  { name: 'TRANSFER_TO_HOST_2D, offset = backing size -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(0, 0, 1, 1), 256)) },
  { name: 'TRANSFER_TO_HOST_2D, offset 2^53 - 1 -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(0, 0, 1, 1), BigInt(Number.MAX_SAFE_INTEGER))) },
  { name: 'TRANSFER_TO_HOST_2D, 64-bit offset 2^64 - 1 -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.transferToHost2d(1, rect(0, 0, 1, 1), (1n << 64n) - 1n)) },
  {
    name: 'TRANSFER_TO_HOST_2D, backing smaller than the resource -> ERR_INVALID_PARAMETER for a full transfer',
    want: E.PARAM,
    prep: async (g) => {
      await sendOk(g, c2d(1));
      await sendOk(g, cmd.attachBacking(1, g.ram.allocScattered(8 * 4 * 4)));
    },
    send: send(cmd.transferToHost2d(1, rect(0, 0, 8, 8))),
    after: async (g) => sendOk(g, cmd.transferToHost2d(1, rect(0, 0, 8, 4))),
  },
  // ---- RESOURCE_FLUSH
  { name: 'RESOURCE_FLUSH, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.resourceFlush(3, rect(0, 0, 1, 1))) },
  { name: 'RESOURCE_FLUSH, rect outside the resource -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.resourceFlush(1, rect(0, 0, 9, 8))) },
  { name: 'RESOURCE_FLUSH, x + width wrapping 2^32 -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.resourceFlush(1, rect(0x8000_0000, 0, 0x8000_0001, 1))) },
  // ---- SET_SCANOUT / SET_SCANOUT_BLOB / GET_EDID
  { name: 'SET_SCANOUT, scanout id = num_scanouts -> ERR_INVALID_SCANOUT_ID', want: E.SCANOUT, prep: with2d, send: send(cmd.setScanout(1, 1, rect(0, 0, 8, 8))) },
  { name: 'SET_SCANOUT, scanout id 2^32-1 -> ERR_INVALID_SCANOUT_ID', want: E.SCANOUT, prep: with2d, send: send(cmd.setScanout(U32, 1, rect(0, 0, 8, 8))) },
  { name: 'SET_SCANOUT, disable an unknown scanout -> ERR_INVALID_SCANOUT_ID', want: E.SCANOUT, send: send(cmd.setScanout(16, 0, rect(0, 0, 0, 0))) },
  { name: 'SET_SCANOUT, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.setScanout(0, 42, rect(0, 0, 8, 8))) },
  { name: 'SET_SCANOUT, rect outside the resource -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.setScanout(0, 1, rect(1, 1, 8, 8))) },
  { name: 'SET_SCANOUT, y + height wrapping 2^32 -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.setScanout(0, 1, rect(0, U32, 8, 2))) },
  { name: 'SET_SCANOUT, empty rect -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: with2d, send: send(cmd.setScanout(0, 1, rect(0, 0, 0, 8))) },
  {
    name: 'SET_SCANOUT_BLOB, unknown scanout -> ERR_INVALID_SCANOUT_ID',
    want: E.SCANOUT,
    prep: async (g) => sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096, g.ram.allocScattered(4096))),
    send: send(cmd.setScanoutBlob(3, 1, rect(0, 0, 8, 8), 8, 8, FMT, [32, 0, 0, 0], [0, 0, 0, 0])),
  },
  {
    name: 'SET_SCANOUT_BLOB, a 2D resource -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    prep: with2d,
    send: send(cmd.setScanoutBlob(0, 1, rect(0, 0, 8, 8), 8, 8, FMT, [32, 0, 0, 0], [0, 0, 0, 0])),
  },
  {
    name: 'SET_SCANOUT_BLOB, stride * height past the blob (offset + stride wrap) -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    prep: async (g) => sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096, g.ram.allocScattered(4096))),
    send: send(cmd.setScanoutBlob(0, 1, rect(0, 0, 8, 2), 8, 2, FMT, [U32, 0, 0, 0], [U32, 0, 0, 0])),
  },
  {
    name: 'SET_SCANOUT_BLOB, unknown format -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    prep: async (g) => sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096, g.ram.allocScattered(4096))),
    send: send(cmd.setScanoutBlob(0, 1, rect(0, 0, 8, 8), 8, 8, 99, [32, 0, 0, 0], [0, 0, 0, 0])),
  },
  { name: 'GET_EDID, scanout = num_scanouts -> ERR_INVALID_SCANOUT_ID', want: E.SCANOUT, send: send(cmd.getEdid(1)) },
  { name: 'GET_EDID, scanout 2^32-1 -> ERR_INVALID_SCANOUT_ID', want: E.SCANOUT, send: send(cmd.getEdid(U32)) },
  { name: 'GET_EDID, VIRTIO_GPU_F_EDID not negotiated -> ERR_UNSPEC', want: E.UNSPEC, rig: () => buildGpu({ features: 0n }), send: send(cmd.getEdid(0)) },
  // ---- cursor
  { name: 'UPDATE_CURSOR, 32x32 resource -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: async (g) => void (await backed2d(g, 1, 32, 32)), send: send(cmd.updateCursor(0, 0, 0, 1, 0, 0)) },
  { name: 'UPDATE_CURSOR, 64x65 resource -> ERR_INVALID_PARAMETER', want: E.PARAM, prep: async (g) => void (await backed2d(g, 1, 64, 65)), send: send(cmd.updateCursor(0, 0, 0, 1, 0, 0)) },
  { name: 'UPDATE_CURSOR, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.updateCursor(0, 0, 0, 9, 0, 0)) },
  { name: 'UPDATE_CURSOR, unknown scanout -> ERR_INVALID_SCANOUT_ID', want: E.SCANOUT, prep: async (g) => void (await backed2d(g, 1, 64, 64)), send: send(cmd.updateCursor(4, 0, 0, 1, 0, 0)) },
  { name: 'MOVE_CURSOR, unknown scanout -> ERR_INVALID_SCANOUT_ID', want: E.SCANOUT, send: send(cmd.moveCursor(16, 0, 0)) },
  // ---- UUID and blobs
  { name: 'RESOURCE_ASSIGN_UUID, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: send(cmd.assignUuid(8)) },
  { name: 'RESOURCE_CREATE_BLOB, id 0 -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, send: (g) => g.driver.send(cmd.createBlob(0, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096, g.ram.allocScattered(4096))) },
  { name: 'RESOURCE_CREATE_BLOB, size 0 -> ERR_INVALID_PARAMETER', want: E.PARAM, send: (g) => g.driver.send(cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 0, g.ram.allocScattered(4096))) },
  { name: 'RESOURCE_CREATE_BLOB, size beyond its entries -> ERR_INVALID_PARAMETER', want: E.PARAM, send: (g) => g.driver.send(cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4097, g.ram.allocScattered(4096))) },
  { name: 'RESOURCE_CREATE_BLOB, size 2^64-1 -> ERR_OUT_OF_MEMORY', want: E.OOM, send: (g) => g.driver.send(cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, (1n << 64n) - 1n, g.ram.allocScattered(4096))) },
  {
    name: 'RESOURCE_CREATE_BLOB, over the quota -> ERR_OUT_OF_MEMORY, nothing allocated; a smaller blob fits',
    want: E.OOM,
    rig: () => buildGpu({ limits: { hostMemoryBytes: 16384 } }),
    send: (g) => g.driver.send(cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 5 * 4096, g.ram.allocScattered(5 * 4096))),
    after: async (g) => {
      expect(g.device.resourceCount).toBe(0);
      await sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096, g.ram.allocScattered(4096)));
      await sendOk(g, cmd.resourceUnref(1));
    },
  },
  { name: 'RESOURCE_CREATE_BLOB, blob_mem 9 -> ERR_INVALID_PARAMETER', want: E.PARAM, send: (g) => g.driver.send(cmd.createBlob(1, 9, 0, 4096, g.ram.allocScattered(4096))) },
  { name: 'RESOURCE_CREATE_BLOB, HOST3D with an unknown context -> ERR_INVALID_CONTEXT_ID', want: E.CONTEXT, rig: gpu3d, send: send(cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, 4096, [], 0, 7)) },
  { name: 'RESOURCE_MAP_BLOB, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, rig: gpu3d, send: send(cmd.mapBlob(3, 0)) },
  {
    name: 'RESOURCE_MAP_BLOB, blob without USE_MAPPABLE -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    rig: gpu3d,
    prep: async (g) => {
      await ctx1(g);
      await sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, 4096, [], 0, 1));
    },
    send: send(cmd.mapBlob(1, 0)),
  },
  {
    name: 'RESOURCE_MAP_BLOB, offset near 2^64 (offset + size past the region) -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    rig: gpu3d,
    prep: async (g) => {
      await ctx1(g);
      await sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4096, [], 0, 1));
    },
    send: send(cmd.mapBlob(1, (1n << 64n) - 4096n)),
  },
  {
    name: 'RESOURCE_UNMAP_BLOB, not mapped -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    rig: gpu3d,
    prep: async (g) => {
      await ctx1(g);
      await sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4096, [], 0, 1));
    },
    send: send(cmd.unmapBlob(1)),
  },
  // ---- capsets
  { name: 'GET_CAPSET_INFO, index = num_capsets -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, send: send(cmd.getCapsetInfo(2)) },
  { name: 'GET_CAPSET_INFO, any index on the 2D renderer -> ERR_INVALID_PARAMETER', want: E.PARAM, send: send(cmd.getCapsetInfo(0)) },
  { name: 'GET_CAPSET, unknown capset id -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, send: send(cmd.getCapset(P.VIRTIO_GPU_CAPSET_VIRGL, 1)) },
  { name: 'GET_CAPSET, version above the max -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, send: send(cmd.getCapset(P.VIRTIO_GPU_CAPSET_VIRGL2, 3)) },
  // ---- contexts and 3D
  { name: 'CTX_CREATE, ctx id 0 -> ERR_INVALID_CONTEXT_ID', want: E.CONTEXT, rig: gpu3d, send: send(cmd.ctxCreate(0, 'zero')) },
  { name: 'CTX_CREATE, ctx id in use -> ERR_INVALID_CONTEXT_ID', want: E.CONTEXT, rig: gpu3d, prep: ctx1, send: send(cmd.ctxCreate(1, 'again')) },
  { name: 'CTX_CREATE, unknown capset in context_init -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, send: send(cmd.ctxCreate(2, 'x', P.VIRTIO_GPU_CAPSET_GFXSTREAM_VULKAN)) },
  { name: 'CTX_CREATE, 2D renderer -> ERR_UNSPEC', want: E.UNSPEC, send: send(cmd.ctxCreate(1, 'x')) },
  { name: 'CTX_DESTROY, unknown ctx -> ERR_INVALID_CONTEXT_ID', want: E.CONTEXT, rig: gpu3d, send: send(cmd.ctxDestroy(5)) },
  { name: 'CTX_ATTACH_RESOURCE, unknown ctx -> ERR_INVALID_CONTEXT_ID', want: E.CONTEXT, rig: gpu3d, prep: with2d, send: send(cmd.ctxAttachResource(5, 1)) },
  { name: 'CTX_ATTACH_RESOURCE, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, rig: gpu3d, prep: ctx1, send: send(cmd.ctxAttachResource(1, 6)) },
  { name: 'CTX_DETACH_RESOURCE, not attached -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, prep: async (g) => { await ctx1(g); await with2d(g); }, send: send(cmd.ctxDetachResource(1, 1)) },
  { name: 'SUBMIT_3D, unknown ctx -> ERR_INVALID_CONTEXT_ID', want: E.CONTEXT, rig: gpu3d, send: send(cmd.submit3d(3, new Uint8Array(16))) },
  { name: 'RESOURCE_CREATE_3D, id 0 -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, rig: gpu3d, send: send(cmd.resourceCreate3d(0, { target: 2, format: 1, bind: 2, width: 4, height: 4 })) },
  { name: 'RESOURCE_CREATE_3D, width 0 -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, send: send(cmd.resourceCreate3d(1, { target: 2, format: 1, bind: 2, width: 0, height: 4 })) },
  { name: 'TRANSFER_TO_HOST_3D, unknown resource -> ERR_INVALID_RESOURCE_ID', want: E.RESOURCE, rig: gpu3d, send: send(cmd.transferToHost3d(1, 4, { x: 0, y: 0, z: 0, w: 1, h: 1, d: 1 })) },
  {
    name: 'TRANSFER_FROM_HOST_3D, 64-bit offset -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    rig: gpu3d,
    prep: async (g) => sendOk(g, cmd.resourceCreate3d(4, { target: 2, format: 1, bind: 2, width: 4, height: 4 })),
    send: send(cmd.transferFromHost3d(1, 4, { x: 0, y: 0, z: 0, w: 1, h: 1, d: 1 }, 1n << 60n)),
  },
  // ---- fence rings
  { name: 'fenced command, ring_idx 64 -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, prep: ctx1, send: send(cmd.submit3d(1, new Uint8Array(8)), { fence: true, ringIdx: 64, ctxId: 1 }) },
  { name: 'fenced command, ring_idx 255 -> ERR_INVALID_PARAMETER', want: E.PARAM, rig: gpu3d, prep: ctx1, send: send(cmd.submit3d(1, new Uint8Array(8)), { fence: true, ringIdx: 255, ctxId: 1 }) },
  { name: 'fenced command, ring of an unknown context -> ERR_INVALID_CONTEXT_ID', want: E.CONTEXT, rig: gpu3d, send: send(cmd.getDisplayInfo(), { fence: true, ringIdx: 0, ctxId: 9 }) },
  {
    name: 'fenced command, ring_idx without VIRTIO_GPU_F_CONTEXT_INIT negotiated -> ERR_INVALID_PARAMETER',
    want: E.PARAM,
    rig: () => gpu3d({ features: 1n << BigInt(P.VIRTIO_GPU_F_VIRGL) }),
    prep: ctx1,
    send: send(cmd.submit3d(1, new Uint8Array(8)), { fence: true, ringIdx: 0, ctxId: 1 }),
  },
];

describe('error paths through the queues', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const g = (c.rig ?? (() => buildGpu({ scanouts: [{ width: 64, height: 48 }] })))();
    await c.prep?.(g);
    const r = await c.send(g);
    expect(r.type).toBe(c.want);
    await c.after?.(g);
    await expectHealthy(g);
  });
});

/** Raw request bytes: a header of `type` plus `extra` zero bytes. */
function raw(type: number, extra = 0, flags = 0): Uint8Array {
  const b = new Uint8Array(24 + extra);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, flags, true);
  dv.setBigUint64(8, 77n, true);
  return b;
}

describe('malformed requests through the queues', () => {
  it('unknown command type -> ERR_UNSPEC', async () => {
    const g = buildGpu();
    const r = await (await g.driver.submitRaw(0, raw(0x0999, 40))).response;
    expect(r.type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });

  it('unknown command type with FLAG_FENCE -> ERR_UNSPEC echoing the fence id', async () => {
    const g = buildGpu();
    const r = await (await g.driver.submitRaw(0, raw(0x0999, 0, P.VIRTIO_GPU_FLAG_FENCE))).response;
    expect(r.hdr).toMatchObject({ type: E.UNSPEC, flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 77n });
    await expectHealthy(g);
  });

  it('a response type (OK_NODATA) sent as a command -> ERR_UNSPEC', async () => {
    const g = buildGpu();
    expect((await (await g.driver.submitRaw(0, raw(P.VIRTIO_GPU_RESP_OK_NODATA))).response).type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });

  it('RESOURCE_CREATE_2D cut 4 bytes short -> ERR_UNSPEC and nothing created', async () => {
    const g = buildGpu();
    const full = raw(P.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 16);
    new DataView(full.buffer).setUint32(24, 1, true);
    expect((await (await g.driver.submitRaw(0, full.subarray(0, 36))).response).type).toBe(E.UNSPEC);
    expect(g.device.resourceCount).toBe(0);
    await expectHealthy(g);
  });

  it('request shorter than the control header -> ERR_UNSPEC', async () => {
    const g = buildGpu();
    expect((await (await g.driver.submitRaw(0, new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0]))).response).type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });

  it('control command on the cursor queue -> ERR_UNSPEC', async () => {
    const g = buildGpu();
    expect((await (await g.driver.submitRaw(1, raw(P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO))).response).type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });

  it('cursor command on the control queue -> ERR_UNSPEC', async () => {
    const g = buildGpu();
    expect((await (await g.driver.submitRaw(0, raw(P.VIRTIO_GPU_CMD_MOVE_CURSOR, 32))).response).type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });

  it('SUBMIT_3D whose size exceeds the bytes sent -> ERR_UNSPEC', async () => {
    const g = gpu3d();
    await ctx1(g);
    const b = raw(P.VIRTIO_GPU_CMD_SUBMIT_3D, 8 + 16);
    const dv = new DataView(b.buffer);
    dv.setUint32(16, 1, true);
    dv.setUint32(24, 1 << 20, true);
    expect((await (await g.driver.submitRaw(0, b)).response).type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });
});

describe('response buffer too small (SendOptions.responseBytes)', () => {
  it('GET_DISPLAY_INFO with room for a header only -> ERR_UNSPEC header, not a truncated mode list', async () => {
    const g = buildGpu();
    expect((await g.driver.send(cmd.getDisplayInfo(), { responseBytes: 24 })).type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });

  it('GET_EDID with room for 100 bytes -> ERR_UNSPEC', async () => {
    const g = buildGpu();
    expect((await g.driver.send(cmd.getEdid(0), { responseBytes: 100 })).type).toBe(E.UNSPEC);
    await expectHealthy(g);
  });

  it('OK_NODATA command with exactly a header of room -> its normal answer', async () => {
    const g = buildGpu();
    expect((await g.driver.send(c2d(1), { responseBytes: 24 })).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    await expectHealthy(g);
  });

  it('8 bytes of room -> the device writes 8 bytes (an undecodable answer), the command still ran', async () => {
    const g = buildGpu();
    await expect(g.driver.send(c2d(1), { responseBytes: 8 })).rejects.toThrow(/8 bytes/);
    expect(g.device.resourceCount).toBe(1);
    await expectHealthy(g);
  });
});
