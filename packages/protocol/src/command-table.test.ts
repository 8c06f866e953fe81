import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as C from './constants.js';
import { COMMAND_SPECS, commandSlot, commandSpec } from './command-table.js';
import { decodeCommand, decodeResponse } from './decode.js';
import { commandSize, encodeCommand, encodeReply, encodeReplyHeader } from './encode.js';
import { fieldsJson, readFields } from './fields.js';
import { RESPONSE_SPECS } from './responses.js';
import { SAMPLE_COMMANDS, SAMPLE_RESPONSES, hdr } from './test-fixtures.js';
import { responseHdr } from './wire.js';

describe('command table', () => {
  it('one spec per command type, and none for anything else', () => {
    expect(COMMAND_SPECS.map((s) => s.type).sort((a, b) => a - b)).toEqual([...C.COMMAND_TYPES].sort((a, b) => a - b));
    for (const t of C.COMMAND_TYPES) expect(commandSpec(t)?.type).toBe(t);
    for (const t of [0, 0x0ff, 0x10e, 0x1ff, 0x20a, 0x2ff, 0x302, 0x1100, 1.5, NaN]) expect(commandSlot(t)).toBe(-1);
  });

  it('every spec\'s create() is the shape decodeCommand gives, and fill() round-trips encode()', () => {
    for (const cmd of SAMPLE_COMMANDS) {
      const spec = commandSpec(cmd.type)!;
      const bytes = new Uint8Array(commandSize(cmd));
      encodeCommand(cmd, bytes, 0);
      const fresh = spec.create({ ...cmd.hdr });
      expect(spec.fill(fresh, bytes, 0, bytes.length)).toBeNull();
      expect(fresh).toEqual(cmd);
      const dec = decodeCommand(bytes);
      expect(dec.ok && Object.keys(dec.cmd)).toEqual(Object.keys(fresh));
    }
  });

  it('every entry reads exactly its field list: hand-written readers agree with the generic one on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1200, maxLength: 1200 }), (bytes) => {
        for (const spec of COMMAND_SPECS) {
          const hand = spec.create(hdr(spec.type));
          spec.fill(hand, bytes, 0, bytes.length);
          const generic = spec.create(hdr(spec.type));
          readFields(generic, spec.fields, bytes, 0);
          expect(fieldsJson(hand, spec.fields), `0x${spec.type.toString(16)}`).toEqual(fieldsJson(generic, spec.fields));
        }
      }),
      { numRuns: 50, seed: 7 },
    );
  });

  it('one spec per response type', () => {
    expect(RESPONSE_SPECS.map((s) => s.type).sort((a, b) => a - b)).toEqual([...C.RESPONSE_TYPES].sort((a, b) => a - b));
  });
});

describe('encodeReply', () => {
  const fenced = hdr(C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0x1_0000_0007n);
  const plain = { type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, flags: 0, fenceId: 9n, ctxId: 4, ringIdx: 3 };

  it('the reply to a fenced, ringed command echoes fence_id, ctx_id and ring_idx (§5.7.6.7)', () => {
    for (const resp of SAMPLE_RESPONSES) {
      const out = new Uint8Array(2048).fill(0xaa);
      const n = encodeReply(resp, fenced, out, 0);
      const dec = decodeResponse(out, 0, n);
      expect(dec.ok && dec.resp).toEqual({ ...resp, hdr: responseHdr(fenced, resp.type) });
      expect(dec.ok && dec.resp.hdr).toEqual({ type: resp.type, flags: fenced.flags, fenceId: 0x1_0000_0007n, ctxId: 5, ringIdx: 2 });
    }
  });

  it('the reply to an unfenced command has a zero header but its type', () => {
    const out = new Uint8Array(24).fill(0xaa);
    expect(encodeReplyHeader(C.VIRTIO_GPU_RESP_ERR_UNSPEC, plain, out, 0)).toBe(24);
    expect(out).toEqual(new Uint8Array([0x00, 0x12, 0, 0, ...new Array(20).fill(0)]));
  });

  it('fenced without INFO_RING_IDX: ring_idx and the flag are not echoed', () => {
    const out = new Uint8Array(24);
    encodeReplyHeader(C.VIRTIO_GPU_RESP_OK_NODATA, { ...plain, flags: C.VIRTIO_GPU_FLAG_FENCE }, out, 0);
    const dec = decodeResponse(out);
    expect(dec.ok && dec.resp.hdr).toEqual({ type: C.VIRTIO_GPU_RESP_OK_NODATA, flags: C.VIRTIO_GPU_FLAG_FENCE, fenceId: 9n, ctxId: 4, ringIdx: 0 });
  });

  it('too little room -> RangeError', () => {
    expect(() => encodeReplyHeader(C.VIRTIO_GPU_RESP_OK_NODATA, plain, new Uint8Array(23), 0)).toThrow(RangeError);
    expect(() => encodeReply(SAMPLE_RESPONSES.find((r) => r.type === C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO)!, plain, new Uint8Array(100), 0)).toThrow(RangeError);
  });
});
