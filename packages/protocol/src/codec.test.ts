import { describe as group, expect, it } from 'vitest';
import * as C from './constants.js';
import { decodeCommand, decodeHeader, decodeResponse, peekType, commandStructSize, responseStructSize } from './decode.js';
import { commandToJson, describe, responseToJson } from './describe.js';
import { commandSize, encodeCommand, encodeResponse, responseSize } from './encode.js';
import { SAMPLE_COMMANDS, SAMPLE_RESPONSES, hdr } from './test-fixtures.js';
import type { Command, Response } from './types.js';

function encode(cmd: Command): Uint8Array {
  const out = new Uint8Array(commandSize(cmd));
  expect(encodeCommand(cmd, out)).toBe(out.length);
  return out;
}

function decodeOk(bytes: Uint8Array, offset?: number, length?: number): Command {
  const res = decodeCommand(bytes, offset, length);
  if (!res.ok) throw new Error(`decode failed: ${res.error.message}`);
  return res.cmd;
}

group('round trip', () => {
  it('covers every command and response type', () => {
    expect(SAMPLE_COMMANDS.map((c) => c.type).sort()).toEqual([...C.COMMAND_TYPES].sort());
    expect(SAMPLE_RESPONSES.map((r) => r.type).sort()).toEqual([...C.RESPONSE_TYPES].sort());
  });

  for (const cmd of SAMPLE_COMMANDS) {
    it(`${C.commandName(cmd.type)}: encode then decode gives the same command, at an offset in a shared buffer`, () => {
      const size = commandSize(cmd);
      const backing = new Uint8Array(size + 64).fill(0xee);
      const window = backing.subarray(8); // non-zero byteOffset
      expect(encodeCommand(cmd, window, 13)).toBe(size);
      expect(backing[8 + 12]).toBe(0xee); // nothing written before
      expect(backing[8 + 13 + size]).toBe(0xee); // nothing written after
      expect(decodeOk(window, 13, size)).toEqual(cmd);
      expect(commandStructSize(cmd.type)).toBeLessThanOrEqual(size);
    });
  }

  for (const resp of SAMPLE_RESPONSES) {
    it(`${C.responseName(resp.type)}: encode then decode gives the same response`, () => {
      const size = responseSize(resp);
      const out = new Uint8Array(size + 7);
      expect(encodeResponse(resp, out, 7)).toBe(size);
      const res = decodeResponse(out, 7);
      expect(res.ok && res.resp).toEqual(resp);
      expect(responseStructSize(resp.type)).toBeLessThanOrEqual(size);
    });
  }

  it('encoders write every byte of their span (a dirty buffer gives the same bytes as a clean one)', () => {
    for (const cmd of SAMPLE_COMMANDS) {
      const clean = new Uint8Array(commandSize(cmd));
      const dirty = new Uint8Array(commandSize(cmd)).fill(0xee);
      encodeCommand(cmd, clean);
      encodeCommand(cmd, dirty);
      expect(dirty, C.commandName(cmd.type)).toEqual(clean);
    }
    const responses: Response[] = [...SAMPLE_RESPONSES, { type: C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, hdr: hdr(0), pmodes: [] }];
    for (const resp of responses) {
      const clean = new Uint8Array(responseSize(resp));
      const dirty = new Uint8Array(responseSize(resp)).fill(0xee);
      encodeResponse(resp, clean);
      encodeResponse(resp, dirty);
      expect(dirty, C.responseName(resp.type)).toEqual(clean);
    }
  });

  it('64-bit values survive exactly, including 2^64-1', () => {
    const cmd: Command = {
      type: C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
      hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, 0xffff_ffff_ffff_ffffn),
      resourceId: 1,
      padding: 0,
      offset: 0x8000_0000_0000_0000n,
    };
    expect(decodeOk(encode(cmd))).toEqual(cmd);
  });

  it('padding the guest sent is kept by decode and written back by encode', () => {
    const bytes = encode(SAMPLE_COMMANDS.find((c) => c.type === C.VIRTIO_GPU_CMD_RESOURCE_FLUSH)!);
    bytes[44] = 0x55;
    const cmd = decodeOk(bytes);
    expect(cmd.type === C.VIRTIO_GPU_CMD_RESOURCE_FLUSH && cmd.padding).toBe(0x55);
    expect(encode(cmd)).toEqual(bytes);
  });

  it('a partial pmodes list is padded with zero entries', () => {
    const out = new Uint8Array(408).fill(0xff);
    encodeResponse({ type: C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, hdr: hdr(0), pmodes: [{ r: { x: 0, y: 0, width: 800, height: 600 }, enabled: 1, flags: 0 }] }, out);
    const res = decodeResponse(out);
    expect(res.ok && res.resp.type === C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO && res.resp.pmodes[1]).toEqual({ r: { x: 0, y: 0, width: 0, height: 0 }, enabled: 0, flags: 0 });
  });
});

group('wire bytes', () => {
  it('RESOURCE_CREATE_2D decodes from hand-written little-endian bytes', () => {
    const hex = '01010000 01000000 0700000000000000 00000000 00000000 03000000 02000000 80020000 e0010000';
    const bytes = Uint8Array.from(hex.replace(/ /g, '').match(/../g)!.map((h) => parseInt(h, 16)));
    expect(decodeOk(bytes)).toEqual({
      type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
      hdr: { type: 0x101, flags: 1, fenceId: 7n, ctxId: 0, ringIdx: 0 },
      resourceId: 3,
      format: C.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
      width: 640,
      height: 480,
    });
  });

  it('peekType and decodeHeader read the header; both refuse fewer than 24 bytes', () => {
    const bytes = encode(SAMPLE_COMMANDS[4]);
    expect(peekType(bytes)).toBe(C.VIRTIO_GPU_CMD_RESOURCE_FLUSH);
    expect(decodeHeader(bytes)).toEqual(SAMPLE_COMMANDS[4].hdr);
    expect(peekType(bytes.subarray(0, 23))).toBe(-1);
    expect(decodeHeader(bytes, 0, 23)).toBeNull();
    expect(decodeHeader(bytes, 100)).toBeNull();
  });

  it('SUBMIT_3D data is a view of the input, bounded by size', () => {
    const bytes = new Uint8Array(64);
    encodeCommand({ type: C.VIRTIO_GPU_CMD_SUBMIT_3D, hdr: hdr(0), size: 4, padding: 0, data: new Uint8Array([1, 2, 3, 4]) }, bytes);
    const cmd = decodeOk(bytes);
    expect(cmd.type === C.VIRTIO_GPU_CMD_SUBMIT_3D && cmd.data).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(cmd.type === C.VIRTIO_GPU_CMD_SUBMIT_3D && cmd.data.buffer).toBe(bytes.buffer);
  });

  it('CTX_CREATE debug_name of 64 invalid UTF-8 bytes decodes to text that encodes back into 64 bytes', () => {
    const bytes = encode({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(0), nlen: 64, contextInit: 0, debugName: '' });
    bytes.fill(0xff, 32, 96);
    const cmd = decodeOk(bytes);
    expect(cmd).toMatchObject({ nlen: 64, debugName: '?'.repeat(64) });
    expect(encode(cmd).subarray(32)).toEqual(new Uint8Array(64).fill(0x3f));
  });

  it('CTX_CREATE debug_name is the first nlen bytes, UTF-8', () => {
    const bytes = encode({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(0), nlen: 4, contextInit: 0, debugName: 'gpu-ctx' });
    expect(decodeOk(bytes)).toMatchObject({ nlen: 4, debugName: 'gpu-' });
    const utf = encode({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(0), nlen: 5, contextInit: 0, debugName: 'ünï' });
    expect(decodeOk(utf)).toMatchObject({ debugName: 'ünï' });
  });
});

group('hostile input -> typed error, never an exception', () => {
  const create2d = () => encode(SAMPLE_COMMANDS[1]);

  it('fewer bytes than a header -> short', () => {
    expect(decodeCommand(new Uint8Array(23))).toMatchObject({ ok: false, error: { kind: 'short' } });
    expect(decodeResponse(new Uint8Array(0))).toMatchObject({ ok: false, error: { kind: 'short' } });
  });

  it('fewer bytes than the struct -> short, with the type', () => {
    expect(decodeCommand(create2d(), 0, 39)).toMatchObject({ ok: false, error: { kind: 'short', type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D } });
    const edid = new Uint8Array(1055);
    new DataView(edid.buffer).setUint32(0, C.VIRTIO_GPU_RESP_OK_EDID, true);
    expect(decodeResponse(edid)).toMatchObject({ ok: false, error: { kind: 'short', type: C.VIRTIO_GPU_RESP_OK_EDID } });
  });

  it('unknown type -> unknown-type, with the type', () => {
    const bytes = create2d();
    bytes[0] = 0x99;
    expect(decodeCommand(bytes)).toMatchObject({ ok: false, error: { kind: 'unknown-type', type: 0x199 } });
    // A response type is not a command, and the other way round.
    expect(decodeCommand(encodeNoData())).toMatchObject({ ok: false, error: { kind: 'unknown-type' } });
    expect(decodeResponse(create2d())).toMatchObject({ ok: false, error: { kind: 'unknown-type' } });
  });

  function encodeNoData() {
    const out = new Uint8Array(24);
    encodeResponse({ type: C.VIRTIO_GPU_RESP_OK_NODATA, hdr: hdr(0) }, out);
    return out;
  }

  it('ATTACH_BACKING nr_entries beyond the bytes present -> inconsistent', () => {
    const bytes = encode(SAMPLE_COMMANDS.find((c) => c.type === C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING)!);
    expect(decodeCommand(bytes, 0, bytes.length - 1)).toMatchObject({ ok: false, error: { kind: 'inconsistent' } });
    new DataView(bytes.buffer).setUint32(28, 0xffff_ffff, true);
    expect(decodeCommand(bytes)).toMatchObject({ ok: false, error: { kind: 'inconsistent' } });
  });

  it('CREATE_BLOB nr_entries beyond the bytes present -> inconsistent', () => {
    const bytes = encode(SAMPLE_COMMANDS.find((c) => c.type === C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB)!);
    new DataView(bytes.buffer).setUint32(36, 2, true);
    expect(decodeCommand(bytes)).toMatchObject({ ok: false, error: { kind: 'inconsistent' } });
  });

  it('CTX_CREATE nlen > 64 -> inconsistent', () => {
    const bytes = encode({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(0), nlen: 65, contextInit: 0, debugName: 'x' });
    expect(decodeCommand(bytes)).toMatchObject({ ok: false, error: { kind: 'inconsistent' } });
    new DataView(bytes.buffer).setUint32(24, 64, true);
    expect(decodeCommand(bytes).ok).toBe(true);
  });

  it('SUBMIT_3D size beyond the bytes present -> inconsistent', () => {
    const bytes = encode({ type: C.VIRTIO_GPU_CMD_SUBMIT_3D, hdr: hdr(0), size: 9, padding: 0, data: new Uint8Array(8) });
    expect(decodeCommand(bytes)).toMatchObject({ ok: false, error: { kind: 'inconsistent' } });
  });

  it('RESP_OK_EDID size > 1024 -> inconsistent', () => {
    const out = new Uint8Array(1056);
    encodeResponse({ type: C.VIRTIO_GPU_RESP_OK_EDID, hdr: hdr(0), size: 1025, edid: new Uint8Array(0) }, out);
    expect(decodeResponse(out)).toMatchObject({ ok: false, error: { kind: 'inconsistent' } });
  });

  it('offset/length outside the buffer -> short, not an exception', () => {
    const bytes = create2d();
    for (const [offset, length] of [
      [-1, undefined],
      [41, undefined],
      [0, 41],
      [8, 33],
      [0, -1],
      [Number.NaN, undefined],
      [0.5, undefined],
      [Infinity, undefined],
    ] as const) {
      expect(decodeCommand(bytes, offset, length), `${offset}/${length}`).toMatchObject({ ok: false, error: { kind: 'short' } });
      expect(decodeResponse(bytes, offset, length).ok).toBe(false);
    }
  });

  it('bytes after the command are ignored', () => {
    const bytes = new Uint8Array(100);
    bytes.set(create2d());
    expect(decodeOk(bytes)).toEqual(SAMPLE_COMMANDS[1]);
  });

  it('a non-Uint8Array argument -> error result, not an exception', () => {
    expect(decodeCommand(null as unknown as Uint8Array).ok).toBe(false);
    expect(decodeResponse({} as unknown as Uint8Array).ok).toBe(false);
  });
});

group('encode misuse throws RangeError (host bug, not guest input)', () => {
  it('buffer too small', () => {
    expect(() => encodeCommand(SAMPLE_COMMANDS[1], new Uint8Array(39))).toThrow(RangeError);
    expect(() => encodeCommand(SAMPLE_COMMANDS[1], new Uint8Array(40), 1)).toThrow(RangeError);
    expect(() => encodeResponse(SAMPLE_RESPONSES[0], new Uint8Array(23))).toThrow(RangeError);
  });

  it('bad offset, 64-bit value out of range, oversized arrays', () => {
    expect(() => encodeCommand(SAMPLE_COMMANDS[1], new Uint8Array(80), -1)).toThrow(RangeError);
    expect(() => encodeCommand({ ...SAMPLE_COMMANDS[1], hdr: hdr(0, -1n) }, new Uint8Array(80))).toThrow(RangeError);
    expect(() => encodeCommand({ ...SAMPLE_COMMANDS[1], hdr: hdr(0, 1n << 64n) }, new Uint8Array(80))).toThrow(RangeError);
    expect(() =>
      encodeCommand({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(0), nlen: 65, contextInit: 0, debugName: 'x'.repeat(65) }, new Uint8Array(96)),
    ).toThrow(RangeError);
    expect(() => encodeResponse({ type: C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID, hdr: hdr(0), uuid: new Uint8Array(15) }, new Uint8Array(40))).toThrow(RangeError);
    expect(() => encodeResponse({ type: C.VIRTIO_GPU_RESP_OK_EDID, hdr: hdr(0), size: 0, edid: new Uint8Array(1025) }, new Uint8Array(1056))).toThrow(RangeError);
  });
});

group('describe and commandToJson', () => {
  const create2d: Command = {
    type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
    hdr: { type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, flags: 0, fenceId: 7n, ctxId: 0, ringIdx: 0 },
    resourceId: 3,
    format: C.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
    width: 640,
    height: 480,
  };

  it('describe: one line per command', () => {
    expect(describe(create2d)).toBe('RESOURCE_CREATE_2D res=3 fmt=B8G8R8X8_UNORM 640x480 fence=7 ctx=0');
    for (const cmd of SAMPLE_COMMANDS) {
      const line = describe(cmd);
      expect(line).not.toContain('\n');
      expect(line.startsWith(C.commandName(cmd.type)!.slice('VIRTIO_GPU_CMD_'.length))).toBe(true);
    }
  });

  it('commandToJson: C names, nested hdr, 64-bit as decimal strings', () => {
    expect(commandToJson(create2d)).toEqual({
      type: 'VIRTIO_GPU_CMD_RESOURCE_CREATE_2D',
      hdr: { type: 0x101, flags: 0, fence_id: '7', ctx_id: 0, ring_idx: 0 },
      resource_id: 3,
      format: 2,
      width: 640,
      height: 480,
    });
  });

  it('commandToJson: payloads as entries, debug_name and data_hex; JSON-serialisable', () => {
    const byType = (t: number) => commandToJson(SAMPLE_COMMANDS.find((c) => c.type === t)!);
    expect(byType(C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING).entries).toEqual([
      { addr: '4096', length: 4096 },
      { addr: '18446744073709547520', length: 8192 },
    ]);
    expect(byType(C.VIRTIO_GPU_CMD_CTX_CREATE).debug_name).toBe('vkcube-test');
    expect(byType(C.VIRTIO_GPU_CMD_SUBMIT_3D).data_hex).toBe('0102030405060708');
    expect(byType(C.VIRTIO_GPU_CMD_UPDATE_CURSOR).pos).toEqual({ scanout_id: 0, x: 100, y: 200, padding: 0 });
    expect(byType(C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D).box).toEqual({ x: 1, y: 2, z: 3, w: 4, h: 5, d: 6 });
    for (const cmd of SAMPLE_COMMANDS) expect(() => JSON.stringify(commandToJson(cmd))).not.toThrow();
    for (const resp of SAMPLE_RESPONSES) expect(() => JSON.stringify(responseToJson(resp))).not.toThrow();
  });

  it('commandToJson lists every top-level C member of the struct (LAYOUTS), for every command', async () => {
    const { LAYOUTS } = await import('./layouts.js');
    const structOf: Record<number, string> = {
      [C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO]: 'virtio_gpu_ctx_destroy', // header only
      [C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D]: 'virtio_gpu_resource_create_2d',
      [C.VIRTIO_GPU_CMD_RESOURCE_UNREF]: 'virtio_gpu_resource_unref',
      [C.VIRTIO_GPU_CMD_SET_SCANOUT]: 'virtio_gpu_set_scanout',
      [C.VIRTIO_GPU_CMD_RESOURCE_FLUSH]: 'virtio_gpu_resource_flush',
      [C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D]: 'virtio_gpu_transfer_to_host_2d',
      [C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING]: 'virtio_gpu_resource_attach_backing',
      [C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING]: 'virtio_gpu_resource_detach_backing',
      [C.VIRTIO_GPU_CMD_GET_CAPSET_INFO]: 'virtio_gpu_get_capset_info',
      [C.VIRTIO_GPU_CMD_GET_CAPSET]: 'virtio_gpu_get_capset',
      [C.VIRTIO_GPU_CMD_GET_EDID]: 'virtio_gpu_cmd_get_edid',
      [C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID]: 'virtio_gpu_resource_assign_uuid',
      [C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB]: 'virtio_gpu_resource_create_blob',
      [C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB]: 'virtio_gpu_set_scanout_blob',
      [C.VIRTIO_GPU_CMD_CTX_CREATE]: 'virtio_gpu_ctx_create',
      [C.VIRTIO_GPU_CMD_CTX_DESTROY]: 'virtio_gpu_ctx_destroy',
      [C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE]: 'virtio_gpu_ctx_resource',
      [C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE]: 'virtio_gpu_ctx_resource',
      [C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D]: 'virtio_gpu_resource_create_3d',
      [C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D]: 'virtio_gpu_transfer_host_3d',
      [C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D]: 'virtio_gpu_transfer_host_3d',
      [C.VIRTIO_GPU_CMD_SUBMIT_3D]: 'virtio_gpu_cmd_submit',
      [C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB]: 'virtio_gpu_resource_map_blob',
      [C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB]: 'virtio_gpu_resource_unmap_blob',
      [C.VIRTIO_GPU_CMD_UPDATE_CURSOR]: 'virtio_gpu_update_cursor',
      [C.VIRTIO_GPU_CMD_MOVE_CURSOR]: 'virtio_gpu_update_cursor',
    };
    const payloadKeys = new Set(['type', 'entries', 'data_hex']);
    for (const cmd of SAMPLE_COMMANDS) {
      const layout = LAYOUTS[structOf[cmd.type]];
      const json = commandToJson(cmd);
      const top = new Set(Object.keys(layout.fields).map((f) => f.split('.')[0]));
      expect(new Set(Object.keys(json).filter((k) => !payloadKeys.has(k))), C.commandName(cmd.type)).toEqual(top);
      for (const nested of ['r', 'box', 'pos'] as const) {
        if (!top.has(nested)) continue;
        const sub = Object.keys(layout.fields).filter((f) => f.startsWith(`${nested}.`)).map((f) => f.slice(nested.length + 1));
        expect(Object.keys(json[nested] as object).sort(), `${C.commandName(cmd.type)}.${nested}`).toEqual(sub.sort());
      }
      // Exact JSON key order follows the C struct (hdr first).
      expect(Object.keys(json).filter((k) => !payloadKeys.has(k))).toEqual([...top]);
    }
  });
});

group('name lookups', () => {
  it('commandName, responseName, formatName; undefined when unknown', () => {
    expect(C.commandName(0x0101)).toBe('VIRTIO_GPU_CMD_RESOURCE_CREATE_2D');
    expect(C.responseName(0x1203)).toBe('VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID');
    expect(C.formatName(134)).toBe('VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM');
    expect(C.commandName(0x1100)).toBeUndefined();
    expect(C.responseName(0x0101)).toBeUndefined();
    expect(C.formatName(5)).toBeUndefined();
    expect(C.commandName('toString' as unknown as number)).toBeUndefined();
  });
});
