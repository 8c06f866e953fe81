/**
 * Codec primitives, batched (N per iteration) to beat timer noise: divide the reported time per
 * iteration by N for ns per operation. Fixtures are built outside the timed functions.
 * Target: a small command decodes well under 200 ns (the device path aims at >= 2M commands/s).
 */
import { bench, describe } from 'vitest';
import {
  VIRTIO_GPU_CMD_RESOURCE_FLUSH,
  VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
  VIRTIO_GPU_FLAG_FENCE,
  VIRTIO_GPU_RESP_OK_NODATA,
  decodeCommand,
  decodeHeader,
  encodeCommand,
  encodeResponse,
  peekType,
  type Command,
  type Response,
} from '../src/index.js';

const N = 1000;

function buildRing(make: (i: number) => Command, size: number): Uint8Array {
  const buf = new Uint8Array(N * size);
  for (let i = 0; i < N; i++) encodeCommand(make(i), buf, i * size);
  return buf;
}

const hdr = (i: number) => ({ type: 0, flags: VIRTIO_GPU_FLAG_FENCE, fenceId: BigInt(i + 1), ctxId: 0, ringIdx: 0 });
const flushes = buildRing(
  (i) => ({ type: VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: hdr(i), r: { x: 0, y: 0, width: 640, height: 480 }, resourceId: 1 + (i & 7) }),
  48,
);
const transfers = buildRing(
  (i) => ({ type: VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr: hdr(i), r: { x: 0, y: 0, width: 64, height: 64 }, offset: BigInt(i * 4096), resourceId: 1 }),
  56,
);

let sink = 0;

describe(`protocol codecs (${N} per iteration)`, () => {
  bench('peekType (header type only)', () => {
    for (let i = 0; i < N; i++) sink += peekType(flushes, i * 48);
  });

  bench('decodeHeader', () => {
    for (let i = 0; i < N; i++) sink += decodeHeader(flushes, i * 48, 48)!.ctxId;
  });

  bench('decodeCommand RESOURCE_FLUSH', () => {
    for (let i = 0; i < N; i++) {
      const res = decodeCommand(flushes, i * 48, 48);
      if (res.ok) sink += res.cmd.hdr.flags;
    }
  });

  bench('decodeCommand TRANSFER_TO_HOST_2D', () => {
    for (let i = 0; i < N; i++) {
      const res = decodeCommand(transfers, i * 56, 56);
      if (res.ok) sink += res.cmd.hdr.flags;
    }
  });

  const out = new Uint8Array(N * 24);
  const ok: Response = { type: VIRTIO_GPU_RESP_OK_NODATA, hdr: { type: 0, flags: VIRTIO_GPU_FLAG_FENCE, fenceId: 7n, ctxId: 0, ringIdx: 0 } };
  bench('encodeResponse OK_NODATA', () => {
    for (let i = 0; i < N; i++) sink += encodeResponse(ok, out, i * 24);
  });
});

export { sink };
