import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as C from './constants.js';
import { CommandScratch, decodeCommand, decodeCommandInto, decodeResponse } from './decode.js';
import { commandSize, encodeCommand, encodeResponse, responseSize } from './encode.js';
import { HDR_ONLY_RESPONSE_TYPES } from './test-fixtures.js';
import type { Command, Response } from './types.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const hdr = (type: number) => fc.record({ type: fc.constant(type), flags: u32, fenceId: u64, ctxId: u32, ringIdx: u8 });
const rect = fc.record({ x: u32, y: u32, width: u32, height: u32 });
const entries = fc.array(fc.record({ addr: u64, length: u32 }), { maxLength: 8 });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const quad = fc.array(u32, { minLength: 4, maxLength: 4 });

function t<T extends number>(type: T, fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Command> {
  return fc.record({ type: fc.constant(type), hdr: hdr(type), ...fields }) as unknown as fc.Arbitrary<Command>;
}
const resourceOnly = (type: number) => t(type, { resourceId: u32, padding: u32 });

/** Any valid command: header fields consistent with the payload (nr_entries, size, nlen). */
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  t(C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, {}),
  t(C.VIRTIO_GPU_CMD_CTX_DESTROY, {}),
  t(C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, { resourceId: u32, format: u32, width: u32, height: u32 }),
  ...[
    C.VIRTIO_GPU_CMD_RESOURCE_UNREF,
    C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
    C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
    C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,
    C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
    C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
  ].map(resourceOnly),
  t(C.VIRTIO_GPU_CMD_SET_SCANOUT, { r: rect, scanoutId: u32, resourceId: u32 }),
  t(C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, { r: rect, resourceId: u32, padding: u32 }),
  t(C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, { r: rect, offset: u64, resourceId: u32, padding: u32 }),
  entries.chain((e) => t(C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, { resourceId: u32, nrEntries: fc.constant(e.length), entries: fc.constant(e) })),
  t(C.VIRTIO_GPU_CMD_GET_CAPSET_INFO, { capsetIndex: u32, padding: u32 }),
  t(C.VIRTIO_GPU_CMD_GET_CAPSET, { capsetId: u32, capsetVersion: u32 }),
  t(C.VIRTIO_GPU_CMD_GET_EDID, { scanout: u32, padding: u32 }),
  entries.chain((e) =>
    t(C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, {
      resourceId: u32,
      blobMem: u32,
      blobFlags: u32,
      nrEntries: fc.constant(e.length),
      blobId: u64,
      size: u64,
      entries: fc.constant(e),
    }),
  ),
  t(C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, { r: rect, scanoutId: u32, resourceId: u32, width: u32, height: u32, format: u32, padding: u32, strides: quad, offsets: quad }),
  fc
    .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_. '.split('')), maxLength: 64 })
    .chain((name) => t(C.VIRTIO_GPU_CMD_CTX_CREATE, { nlen: fc.constant(name.length), contextInit: u32, debugName: fc.constant(name) })),
  t(C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, Object.fromEntries(['resourceId', 'target', 'format', 'bind', 'width', 'height', 'depth', 'arraySize', 'lastLevel', 'nrSamples', 'flags', 'padding'].map((k) => [k, u32]))),
  ...[C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D].map((type) =>
    t(type, { box: fc.record({ x: u32, y: u32, z: u32, w: u32, h: u32, d: u32 }), offset: u64, resourceId: u32, level: u32, stride: u32, layerStride: u32 }),
  ),
  bytes(64).chain((d) => t(C.VIRTIO_GPU_CMD_SUBMIT_3D, { size: fc.constant(d.length), padding: u32, data: fc.constant(d) })),
  t(C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, { resourceId: u32, padding: u32, offset: u64 }),
  ...[C.VIRTIO_GPU_CMD_UPDATE_CURSOR, C.VIRTIO_GPU_CMD_MOVE_CURSOR].map((type) =>
    t(type, { pos: fc.record({ scanoutId: u32, x: u32, y: u32, padding: u32 }), resourceId: u32, hotX: u32, hotY: u32, padding: u32 }),
  ),
);

const responseArb: fc.Arbitrary<Response> = fc.oneof(
  fc.constantFrom(...HDR_ONLY_RESPONSE_TYPES).chain((type) => t(type, {})),
  t(C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, { pmodes: fc.array(fc.record({ r: rect, enabled: u32, flags: u32 }), { minLength: 16, maxLength: 16 }) }),
  t(C.VIRTIO_GPU_RESP_OK_CAPSET_INFO, { capsetId: u32, capsetMaxVersion: u32, capsetMaxSize: u32, padding: u32 }),
  t(C.VIRTIO_GPU_RESP_OK_CAPSET, { data: bytes(64) }),
  bytes(1024).chain((e) => t(C.VIRTIO_GPU_RESP_OK_EDID, { size: fc.constant(e.length), padding: u32, edid: fc.constant(e) })),
  t(C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID, { uuid: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  t(C.VIRTIO_GPU_RESP_OK_MAP_INFO, { mapInfo: u32, padding: u32 }),
) as unknown as fc.Arbitrary<Response>;

describe('decoders never throw', () => {
  it('on random bytes', () => {
    fc.assert(
      fc.property(bytes(200), fc.integer({ min: -4, max: 210 }), fc.option(fc.integer({ min: -4, max: 210 })), (b, offset, length) => {
        const c = decodeCommand(b, offset, length ?? undefined);
        const r = decodeResponse(b, offset, length ?? undefined);
        expect(typeof c.ok).toBe('boolean');
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('on random bytes behind a valid command or response type', () => {
    const types = [...C.COMMAND_TYPES, ...C.RESPONSE_TYPES];
    fc.assert(
      fc.property(fc.constantFrom(...types), bytes(160), (type, rest) => {
        const b = new Uint8Array(4 + rest.length);
        new DataView(b.buffer).setUint32(0, type, true);
        b.set(rest, 4);
        const c = decodeCommand(b);
        const r = decodeResponse(b);
        if (!c.ok) expect(['short', 'unknown-type', 'inconsistent']).toContain(c.error.kind);
        if (!r.ok) expect(['short', 'unknown-type', 'inconsistent']).toContain(r.error.kind);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('round trip', () => {
  it('random valid commands: decode(encode(cmd)) equals cmd; re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(commandArb, fc.integer({ min: 0, max: 16 }), (cmd, offset) => {
        const out = new Uint8Array(offset + commandSize(cmd));
        expect(encodeCommand(cmd, out, offset)).toBe(commandSize(cmd));
        const res = decodeCommand(out, offset);
        expect(res.ok).toBe(true);
        if (!res.ok) return;
        expect(res.cmd).toEqual(cmd);
        const again = new Uint8Array(out.length);
        encodeCommand(res.cmd, again, offset);
        expect(again).toEqual(out);
      }),
      { numRuns: 400 },
    );
  });

  it('random valid responses: decode(encode(resp)) equals resp', () => {
    fc.assert(
      fc.property(responseArb, (resp) => {
        const out = new Uint8Array(responseSize(resp));
        encodeResponse(resp, out);
        const res = decodeResponse(out);
        expect(res.ok && res.resp).toEqual(resp);
      }),
      { numRuns: 200 },
    );
  });
});

describe('decodeCommandInto agrees with decodeCommand', () => {
  // One scratch for the whole run: every decode overwrites the last, as in the device's loop.
  const scratch = new CommandScratch();

  it('random valid commands decode to equal values (one reused scratch)', () => {
    fc.assert(
      fc.property(commandArb, fc.integer({ min: 0, max: 16 }), (cmd, offset) => {
        const out = new Uint8Array(offset + commandSize(cmd));
        encodeCommand(cmd, out, offset);
        const got = decodeCommandInto(out, offset, out.length - offset, scratch);
        expect(scratch.error).toBeNull();
        expect(got).toEqual(cmd);
        expect(scratch.hdr).toEqual(cmd.hdr);
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes: same success or the same error, never a throw', () => {
    const types = [...C.COMMAND_TYPES, ...C.RESPONSE_TYPES];
    fc.assert(
      fc.property(fc.option(fc.constantFrom(...types)), bytes(200), fc.integer({ min: -4, max: 210 }), fc.integer({ min: -4, max: 210 }), (type, b, offset, length) => {
        if (type !== null && b.length >= 4) new DataView(b.buffer).setUint32(0, type, true);
        const want = decodeCommand(b, offset, length);
        const got = decodeCommandInto(b, offset, length, scratch);
        if (want.ok) {
          expect(scratch.error).toBeNull();
          expect(got).toEqual(want.cmd);
        } else {
          expect(got).toBeNull();
          expect(scratch.error).toEqual(want.error);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
