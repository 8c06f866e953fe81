/**
 * Codec primitives, batched (N per iteration) to beat timer noise: divide the reported time per
 * iteration by N for ns per operation. Fixtures are built outside the timed functions.
 * Target: a small command decodes well under 200 ns (the device path aims at >= 2M commands/s).
 *
 * Each case runs twice: against the tsup bundle in dist/ (what users run; `turbo bench` builds
 * it first) and against src/ as vitest loads it. vitest's module transform turns every imported
 * binding into a property getter, which makes src/ 3-5x slower than the bundle, so compare
 * before/after numbers within one variant and quote the dist/ ones.
 */
import { existsSync } from 'node:fs';
import { bench, describe } from 'vitest';
import * as src from '../src/index.js';
import type { Command, Response } from '../src/index.js';

type Protocol = typeof src;
const distPath = new URL('../dist/index.js', import.meta.url);
const dist: Protocol | null = existsSync(distPath) ? ((await import(distPath.href)) as Protocol) : null;
if (!dist) console.warn('protocol bench: dist/ not built (npx tsup); running the src/ variant only');

const N = 1000;
let sink = 0;

function suite(label: string, P: Protocol): void {
  function buildRing(make: (i: number) => Command, size: number): Uint8Array {
    const buf = new Uint8Array(N * size);
    for (let i = 0; i < N; i++) P.encodeCommand(make(i), buf, i * size);
    return buf;
  }

  const hdr = (i: number) => ({ type: 0, flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: BigInt(i + 1), ctxId: 0, ringIdx: 0 });
  const flushes = buildRing(
    (i) => ({ type: P.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: hdr(i), r: { x: 0, y: 0, width: 640, height: 480 }, resourceId: 1 + (i & 7) }),
    48
  );
  const transfers = buildRing(
    (i) => ({
      type: P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
      hdr: hdr(i),
      r: { x: 0, y: 0, width: 64, height: 64 },
      offset: BigInt(i * 4096),
      resourceId: 1,
    }),
    56
  );

  describe(`protocol codecs, ${label} (${N} per iteration)`, () => {
    bench('peekType (header type only)', () => {
      for (let i = 0; i < N; i++) sink += P.peekType(flushes, i * 48);
    });

    bench('decodeHeader', () => {
      for (let i = 0; i < N; i++) sink += P.decodeHeader(flushes, i * 48, 48)!.ctxId;
    });

    bench('decodeCommand RESOURCE_FLUSH', () => {
      for (let i = 0; i < N; i++) {
        const res = P.decodeCommand(flushes, i * 48, 48);
        if (res.ok) sink += res.cmd.hdr.flags;
      }
    });

    bench('decodeCommand TRANSFER_TO_HOST_2D', () => {
      for (let i = 0; i < N; i++) {
        const res = P.decodeCommand(transfers, i * 56, 56);
        if (res.ok) sink += res.cmd.hdr.flags;
      }
    });

    const out = new Uint8Array(N * 24);
    const ok: Response = {
      type: P.VIRTIO_GPU_RESP_OK_NODATA,
      hdr: { type: 0, flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 7n, ctxId: 0, ringIdx: 0 },
    };
    bench('encodeResponse OK_NODATA', () => {
      for (let i = 0; i < N; i++) sink += P.encodeResponse(ok, out, i * 24);
    });
  });
}

if (dist) suite('dist bundle', dist);
suite('src via vitest transform', src);

export { sink };
