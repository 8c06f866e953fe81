import { describe, expect, it } from 'vitest';
import * as C from './constants.js';
import { CommandScratch, commandStructSize, decodeCommand, decodeCommandInto } from './decode.js';
import { commandSize, encodeCommand } from './encode.js';
import { SAMPLE_COMMANDS, hdr } from './test-fixtures.js';
import type { Command } from './types.js';

function encoded(cmd: Command): Uint8Array {
  const out = new Uint8Array(commandSize(cmd));
  encodeCommand(cmd, out, 0);
  return out;
}

const VARIABLE = new Set<number>([
  C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
  C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
  C.VIRTIO_GPU_CMD_CTX_CREATE,
  C.VIRTIO_GPU_CMD_SUBMIT_3D,
]);

describe('decodeCommandInto', () => {
  it('every sample command decodes equal to decodeCommand, through one scratch', () => {
    const scratch = new CommandScratch();
    for (const cmd of SAMPLE_COMMANDS) {
      const b = encoded(cmd);
      const want = decodeCommand(b);
      expect(want.ok).toBe(true);
      expect(decodeCommandInto(b, 0, b.length, scratch)).toEqual(want.ok && want.cmd);
      expect(scratch.hdr).toEqual(cmd.hdr);
    }
  });

  it('fixed-size commands come back as the same object each time, sharing scratch.hdr', () => {
    const scratch = new CommandScratch();
    for (const cmd of SAMPLE_COMMANDS) {
      if (VARIABLE.has(cmd.type)) continue;
      const b = encoded(cmd);
      const first = decodeCommandInto(b, 0, b.length, scratch);
      const second = decodeCommandInto(b, 0, b.length, scratch);
      expect(second).toBe(first);
      expect(first?.hdr).toBe(scratch.hdr);
    }
  });

  it('variable-size commands come back as the same scratch object each time, sharing scratch.hdr', () => {
    const scratch = new CommandScratch();
    for (const cmd of SAMPLE_COMMANDS) {
      if (!VARIABLE.has(cmd.type)) continue;
      const b = encoded(cmd);
      const first = decodeCommandInto(b, 0, b.length, scratch);
      const second = decodeCommandInto(b, 0, b.length, scratch);
      expect(second).toBe(first);
      expect(second).toEqual(cmd);
      expect(first?.hdr).toBe(scratch.hdr);
    }
  });

  it('ATTACH_BACKING into scratch: the entries array and its entry objects are reused, shrunk and grown', () => {
    const scratch = new CommandScratch();
    const attach = (n: number, base: bigint): Command => ({
      type: C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
      hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
      resourceId: n,
      nrEntries: n,
      entries: Array.from({ length: n }, (_, i) => ({ addr: base + BigInt(i) * 4096n, length: 4096 + i })),
    });
    const decode = (c: Command) => {
      const b = encoded(c);
      const got = decodeCommandInto(b, 0, b.length, scratch);
      if (got?.type !== C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING) throw new Error('type');
      expect(got).toEqual(c);
      return got;
    };
    const three = decode(attach(3, 0x1000n));
    const array = three.entries;
    const firstEntry = array[0];
    const one = decode(attach(1, 0x9000n));
    expect(one.entries).toBe(array);
    expect(one.entries[0]).toBe(firstEntry);
    expect(one.entries).toHaveLength(1);
    const five = decode(attach(5, 0x2_0000_0000n));
    expect(five.entries).toBe(array);
    expect(five.entries[0]).toBe(firstEntry);
    expect(five.entries.map((e) => e.addr)).toEqual([0x2_0000_0000n, 0x2_0000_1000n, 0x2_0000_2000n, 0x2_0000_3000n, 0x2_0000_4000n]);
  });

  it('CREATE_BLOB, CTX_CREATE and SUBMIT_3D into scratch: each field is the new command\'s', () => {
    const scratch = new CommandScratch();
    const blob = (size: bigint, entries: { addr: bigint; length: number }[]): Command => ({
      type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
      hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB),
      resourceId: 4,
      blobMem: C.VIRTIO_GPU_BLOB_MEM_GUEST,
      blobFlags: 0,
      nrEntries: entries.length,
      blobId: 0n,
      size,
      entries,
    });
    const ctx = (name: string): Command => ({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(C.VIRTIO_GPU_CMD_CTX_CREATE), nlen: name.length, contextInit: 0, debugName: name });
    const submit = (data: number[]): Command => ({ type: C.VIRTIO_GPU_CMD_SUBMIT_3D, hdr: hdr(C.VIRTIO_GPU_CMD_SUBMIT_3D), size: data.length, padding: 0, data: new Uint8Array(data) });
    for (const c of [blob(8192n, [{ addr: 0x1000n, length: 8192 }]), ctx('first'), submit([1, 2, 3]), blob(4096n, []), ctx('x'), submit([9])]) {
      const b = encoded(c);
      const got = decodeCommandInto(b, 0, b.length, scratch);
      expect(got).toEqual(c);
      expect(got).toBe(decodeCommandInto(b, 0, b.length, scratch));
    }
  });

  it('a later decode overwrites the earlier result (why callers copy what they keep)', () => {
    const scratch = new CommandScratch();
    const a = encoded({ type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, 1n), r: { x: 1, y: 2, width: 3, height: 4 }, resourceId: 7, padding: 0 });
    const b = encoded({ type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, 2n), r: { x: 9, y: 9, width: 9, height: 9 }, resourceId: 8, padding: 0 });
    const first = decodeCommandInto(a, 0, a.length, scratch);
    const keptRect = first && first.type === C.VIRTIO_GPU_CMD_RESOURCE_FLUSH ? first.r : null;
    decodeCommandInto(b, 0, b.length, scratch);
    expect(keptRect).toEqual({ x: 9, y: 9, width: 9, height: 9 });
    expect(scratch.hdr.fenceId).toBe(2n);
  });

  it('short input -> null with decodeCommand\'s error', () => {
    const scratch = new CommandScratch();
    const b = encoded(SAMPLE_COMMANDS.find((c) => c.type === C.VIRTIO_GPU_CMD_RESOURCE_FLUSH)!);
    expect(decodeCommandInto(b, 0, b.length - 1, scratch)).toBeNull();
    expect(scratch.error).toEqual((decodeCommand(b, 0, b.length - 1) as { error: unknown }).error);
    expect(scratch.error?.kind).toBe('short');
  });

  it('unknown type -> null, kind unknown-type', () => {
    const scratch = new CommandScratch();
    const b = new Uint8Array(64);
    b[0] = 0x55;
    expect(decodeCommandInto(b, 0, b.length, scratch)).toBeNull();
    expect(scratch.error?.kind).toBe('unknown-type');
  });

  it('offset/length outside the input -> null, kind short', () => {
    const scratch = new CommandScratch();
    const b = new Uint8Array(64);
    expect(decodeCommandInto(b, 60, 24, scratch)).toBeNull();
    expect(scratch.error?.kind).toBe('short');
    expect(decodeCommandInto(b, -1, 24, scratch)).toBeNull();
    expect(decodeCommandInto(b, 0.5, 24, scratch)).toBeNull();
  });

  it('an inconsistent variable command (nr_entries past the bytes) -> null, kind inconsistent', () => {
    const scratch = new CommandScratch();
    const cmd = SAMPLE_COMMANDS.find((c) => c.type === C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING)!;
    const b = encoded(cmd);
    expect(decodeCommandInto(b, 0, b.length - 1, scratch)).toBeNull();
    expect(scratch.error?.kind).toBe('inconsistent');
  });

  it('a success clears the previous error', () => {
    const scratch = new CommandScratch();
    decodeCommandInto(new Uint8Array(4), 0, 4, scratch);
    expect(scratch.error).not.toBeNull();
    const b = encoded(SAMPLE_COMMANDS[0]);
    expect(decodeCommandInto(b, 0, b.length, scratch)).not.toBeNull();
    expect(scratch.error).toBeNull();
  });
});

describe('commandStructSize', () => {
  it('-1 for non-commands, fractions, NaN and out-of-range numbers', () => {
    for (const t of [0, 0xff, 0x1100, 256.5, NaN, -1, Infinity, 0x302]) expect(commandStructSize(t)).toBe(-1);
    expect(commandStructSize(C.VIRTIO_GPU_CMD_MOVE_CURSOR)).toBe(56);
    expect(commandStructSize(C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO)).toBe(24);
  });
});

describe('decodeCommandInto transfer offsets', () => {
  const t2d = (offset: bigint) =>
    encoded({ type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr: hdr(C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r: { x: 0, y: 0, width: 1, height: 1 }, offset, resourceId: 1, padding: 0 });
  const offsetOf = (b: Uint8Array, s: CommandScratch) => {
    const c = decodeCommandInto(b, 0, b.length, s);
    if (c?.type !== C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D) throw new Error('type');
    return c.offset;
  };
  it('repeated, changed, high-word and zero offsets all decode exactly', () => {
    const s = new CommandScratch();
    for (const o of [1812n, 1812n, 1813n, 0x1_0000_0714n, 0x1_0000_0714n, 0x714n, 0n, 0n, 0xffff_ffff_ffff_ffffn, 1812n]) {
      expect(offsetOf(t2d(o), s)).toBe(o);
    }
  });
  it('2D and 3D transfer offsets through one scratch stay each command\'s own', () => {
    const s = new CommandScratch();
    const t3d = SAMPLE_COMMANDS.find((c) => c.type === C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D)!;
    expect(offsetOf(t2d(7n), s)).toBe(7n);
    const b = encoded(t3d);
    expect(decodeCommandInto(b, 0, b.length, s)).toEqual(t3d);
    expect(offsetOf(t2d(7n), s)).toBe(7n);
  });
});
