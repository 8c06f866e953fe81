/**
 * The eight 2D formats of virtio-gpu (enum virtio_gpu_formats). Their names give the byte order in
 * memory (B8G8R8A8: byte 0 is blue), so the device stores the guest's bytes as-is and converts to
 * RGBA8 only when a scanout or cursor is read back. X formats have no alpha: read back as 255.
 *
 * Conversion is the display's hot loop (every damaged pixel of every frame), so it works on whole
 * 32-bit pixels: on a little-endian host a pixel read through an Int32Array is one integer whose
 * bytes a rotate or byte swap puts in RGBA order, several times faster than moving single bytes.
 * Int32Array rather than Uint32Array: int32 values stay small integers in V8, where uint32 values
 * above 2^31 would become doubles. Unaligned buffers and big-endian hosts take the byte loop.
 * Where WebAssembly SIMD runs (Node, every current browser), simd-swizzle.ts converts four pixels
 * per instruction instead, for any alignment and host byte order.
 */
import {
  VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM,
  VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM,
  VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
  VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
  VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
  VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
  VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
  VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
} from '@virtio-gpu/protocol';
import { SCRATCH_BYTES, scratchOffset, simdSwizzle, type PixelStore, type SimdKernel, type SwizzleName } from './simd-swizzle.js';

/** Where R, G, B and A sit in one pixel's bytes; `a` is -1 for X formats (alpha reads 255). */
export interface PixelLayout {
  readonly bytesPerPixel: 4;
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

const layout = (r: number, g: number, b: number, a: number): PixelLayout =>
  Object.freeze({ bytesPerPixel: 4, r, g, b, a });

/** Byte positions per format, keyed by VIRTIO_GPU_FORMAT_* value. */
export const PIXEL_FORMATS: ReadonlyMap<number, PixelLayout> = new Map([
  [VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, layout(2, 1, 0, 3)],
  [VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, layout(2, 1, 0, -1)],
  [VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, layout(1, 2, 3, 0)],
  [VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, layout(1, 2, 3, -1)],
  [VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, layout(0, 1, 2, 3)],
  [VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, layout(3, 2, 1, -1)],
  [VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, layout(3, 2, 1, 0)],
  [VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, layout(0, 1, 2, -1)],
]);

/** Each format's layout with its alpha ignored (a = -1): what an opaque conversion reads. */
const OPAQUE_LAYOUTS: ReadonlyMap<number, PixelLayout> = new Map(
  [...PIXEL_FORMATS].map(([format, l]) => [format, l.a < 0 ? l : layout(l.r, l.g, l.b, -1)]),
);

/** Bytes per pixel of a 2D format, or 0 when the guest named an unknown format. */
export function bytesPerPixel(format: number): number {
  return PIXEL_FORMATS.has(format) ? 4 : 0;
}

/**
 * Convert `pixels` pixels from `src` (format `format`) at `srcOffset` to RGBA8 in `dst` at
 * `dstOffset`. The caller has checked both ranges. R8G8B8A8 is a straight copy. With `opaque`,
 * every alpha is 255, as for an X format (see {@link convertRectToRgba}).
 */
export function convertRowToRgba(
  format: number,
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
  pixels: number,
  opaque = false,
): void {
  convertRectToRgba(format, src, srcOffset, 0, dst, dstOffset, 0, pixels, 1, null, opaque);
}

/**
 * Convert a `width` x `height` block from `src` (format `format`, row i at `srcOffset + i *
 * srcStrideBytes`) to RGBA8 in `dst` (row i at `dstOffset + i * dstStrideBytes`). The caller has
 * checked both ranges; an unknown format converts nothing. `store`, when given, is the PixelStore
 * whose `pixels` are `src`: the kernel then reads them in place. `opaque` writes every alpha as
 * 255 in the same pass (an opaque display surface then needs no second pass over its pixels);
 * R8G8B8A8 is then no longer a plain copy but R8G8B8X8's conversion.
 */
export function convertRectToRgba(
  format: number,
  src: Uint8Array,
  srcOffset: number,
  srcStrideBytes: number,
  dst: Uint8Array,
  dstOffset: number,
  dstStrideBytes: number,
  width: number,
  height: number,
  store?: PixelStore | null,
  opaque = false,
): void {
  const given = PIXEL_FORMATS.get(format);
  if (!given || width <= 0 || height <= 0) return;
  const rowBytes = width * 4;
  const oneRun = height === 1 || (srcStrideBytes === rowBytes && dstStrideBytes === rowBytes);
  const r = plan;
  r.src = src;
  r.srcOffset = srcOffset;
  r.srcStrideBytes = srcStrideBytes;
  r.dst = dst;
  r.dstOffset = dstOffset;
  r.dstStrideBytes = dstStrideBytes;
  r.runs = oneRun ? 1 : height;
  r.runBytes = oneRun ? rowBytes * height : rowBytes;
  if (format === VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM && !opaque) {
    for (let k = 0; k < r.runs; k++) {
      const at = srcOffset + k * srcStrideBytes;
      dst.set(src.subarray(at, at + r.runBytes), dstOffset + k * dstStrideBytes);
    }
    return;
  }
  // Forcing alpha makes any format its X twin: the alpha byte is then ignored like an X byte.
  const l = opaque ? OPAQUE_LAYOUTS.get(format)! : given;
  const alpha = l.a < 0 ? OPAQUE : 0;
  const fromStore = store && store.pixels === src ? store : null;
  const useWasm = simdEnabled && r.runBytes >= SIMD_MIN_RUN_BYTES;
  const wasm = !useWasm ? null : fromStore !== null ? fromStore.kernel : simdSwizzle();
  if (wasm !== null) {
    convertSimd(wasm, fromStore, SIMD_NAMES.get(format)!, alpha, r);
    return;
  }
  const s0 = src.byteOffset + srcOffset;
  const d0 = dst.byteOffset + dstOffset;
  const runPixels = r.runBytes >> 2;
  if (!LITTLE_ENDIAN || ((s0 | d0 | srcStrideBytes | dstStrideBytes) & 3) !== 0) {
    for (let k = 0; k < r.runs; k++) convertBytes(l, src, srcOffset + k * srcStrideBytes, dst, dstOffset + k * dstStrideBytes, runPixels);
    return;
  }
  const s32 = int32View(src.buffer, 0);
  const d32 = int32View(dst.buffer, 1);
  const kernel = KERNELS.get(format)!;
  for (let k = 0; k < r.runs; k++) {
    const si = (s0 + k * srcStrideBytes) >> 2;
    const di = (d0 + k * dstStrideBytes) >> 2;
    // At most KERNEL_RUN pixels a call, even for one long run: see KERNEL_RUN.
    for (let x = 0; x < runPixels; x += KERNEL_RUN) kernel(s32, si + x, d32, di + x, Math.min(KERNEL_RUN, runPixels - x), alpha);
  }
}

/**
 * Pixels per kernel call. V8 optimizes a function fully after enough calls; a kernel called once
 * a frame for a whole frame stays in its on-stack-replaced, lower-tier code and runs 3x slower
 * (measured: Node 20, 800x600 in one call vs row by row). Calls of a row or so make it hot.
 */
const KERNEL_RUN = 1024;

/**
 * A block of rows as runs of bytes: run k starts at `src[srcOffset + k * srcStrideBytes]` and
 * `dst[dstOffset + k * dstStrideBytes]`. Rows contiguous on both sides (or a single row) are one
 * run, so the kernels see the longest stretches there are.
 */
interface Runs {
  src: Uint8Array;
  srcOffset: number;
  srcStrideBytes: number;
  dst: Uint8Array;
  dstOffset: number;
  dstStrideBytes: number;
  runs: number;
  runBytes: number;
}

/**
 * The plan of the conversion under way, reused (conversions never nest): no allocation per
 * readback. It keeps its last two buffers reachable until the next conversion, as viewCache does.
 */
const plan: Runs = { src: new Uint8Array(0), srcOffset: 0, srcStrideBytes: 0, dst: new Uint8Array(0), dstOffset: 0, dstStrideBytes: 0, runs: 0, runBytes: 0 };

/**
 * Converts with the wasm kernel, a chunk at a time through a scratch area in its memory. From a
 * PixelStore the kernel reads the pixels where they are; from an ordinary buffer a chunk is first
 * copied in. Either way the converted chunk is copied out to `dst`.
 */
function convertSimd(kernel: SimdKernel, store: PixelStore | null, name: SwizzleName, alpha: number, r: Runs): void {
  const { src, dst, runBytes } = r;
  const memory = kernel.memory;
  const scratchBase = store?.scratchBase ?? 0;
  // Forcing alpha in place (the display's opaque surfaces): a chunk that was already opaque is
  // not copied back, so an X-format scanout costs one read, not a read and a write.
  const inPlaceAlpha =
    store === null && name === 'identity' && src.buffer === dst.buffer && src.byteOffset + r.srcOffset === dst.byteOffset + r.dstOffset;
  for (let k = 0; k < r.runs; k++) {
    const s = r.srcOffset + k * r.srcStrideBytes;
    const d = r.dstOffset + k * r.dstStrideBytes;
    for (let at = 0; at < runBytes; at += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, runBytes - at);
      const m = scratchBase + scratchOffset(dst.byteOffset + d + at);
      if (store !== null) {
        kernel.run(name, s + at, m, n, alpha);
      } else {
        // Two views a chunk: TypedArray.set is the only copy between two buffers, and it wants one.
        memory.set(src.subarray(s + at, s + at + n), m);
        if (inPlaceAlpha) {
          // The kernel reads whole 64-byte blocks: make the slack opaque so it cannot count as a change.
          memory.fill(0xff, m + n, m + n + 64);
          if (!kernel.orAlpha(m, n, alpha)) continue;
        } else {
          kernel.run(name, m, m, n, alpha);
        }
      }
      dst.set(memory.subarray(m, m + n), d + at);
    }
  }
}

/**
 * Shorter runs (rows of a narrow rect) take the JavaScript kernel: the two copies and the call
 * into wasm cost more than the conversion saves below about 64 pixels (measured, Node 20).
 */
const SIMD_MIN_RUN_BYTES = 256;

/** Whether conversions may use the wasm kernel (tests turn it off to check the JavaScript one). */
let simdEnabled = true;

/** Turns the WebAssembly SIMD kernel off or back on; for tests and benchmarks. */
export function setSimdConversion(enabled: boolean): void {
  simdEnabled = enabled;
}

const SIMD_NAMES: ReadonlyMap<number, SwizzleName> = new Map([
  [VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 'swapRedBlue'],
  [VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 'swapRedBlue'],
  [VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, 'rotateRight8'],
  [VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 'rotateRight8'],
  [VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, 'byteSwap'],
  [VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, 'byteSwap'],
  [VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 'identity'],
  // Only when alpha is forced; otherwise R8G8B8A8 is a plain copy.
  [VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 'identity'],
]);

/** The alpha byte of an RGBA8 pixel read as a little-endian int32. */
const OPAQUE = 0xff << 24;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Converts `n` pixels from `s32[si]` to `d32[di]`, OR-ing `alpha` into each result. A pixel read
 * little-endian from bytes b0 b1 b2 b3 is b3<<24 | b2<<16 | b1<<8 | b0; RGBA8 wants R in the low byte.
 */
type Kernel = (s32: Int32Array, si: number, d32: Int32Array, di: number, n: number, alpha: number) => void;

/** B8G8R8A8 / B8G8R8X8: swap bytes 0 and 2 (a 16-bit rotate brings each to the other's place). */
function swapRedBlue(s32: Int32Array, si: number, d32: Int32Array, di: number, n: number, alpha: number): void {
  const keep = alpha === 0 ? 0xff00ff00 | 0 : 0x0000ff00;
  for (let k = 0; k < n; k++) {
    const v = s32[si + k];
    d32[di + k] = (((v << 16) | (v >>> 16)) & 0x00ff00ff) | (v & keep) | alpha;
  }
}

/** A8R8G8B8 / X8R8G8B8: bytes A R G B -> R G B A, a rotate right by 8 bits. */
function rotateRight8(s32: Int32Array, si: number, d32: Int32Array, di: number, n: number, alpha: number): void {
  for (let k = 0; k < n; k++) {
    const v = s32[si + k];
    d32[di + k] = (v >>> 8) | (v << 24) | alpha;
  }
}

/** A8B8G8R8 / X8B8G8R8: bytes A B G R -> R G B A, a byte swap. */
function byteSwap(s32: Int32Array, si: number, d32: Int32Array, di: number, n: number, alpha: number): void {
  for (let k = 0; k < n; k++) {
    const v = s32[si + k];
    d32[di + k] = (v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24) | alpha;
  }
}

/** R8G8B8X8: already in RGBA order; only the alpha byte is forced. */
function setAlpha(s32: Int32Array, si: number, d32: Int32Array, di: number, n: number, alpha: number): void {
  for (let k = 0; k < n; k++) d32[di + k] = s32[si + k] | alpha;
}

const KERNELS: ReadonlyMap<number, Kernel> = new Map([
  [VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, swapRedBlue],
  [VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, swapRedBlue],
  [VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, rotateRight8],
  [VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, rotateRight8],
  [VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, byteSwap],
  [VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, byteSwap],
  [VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, setAlpha],
  [VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, setAlpha],
]);

/**
 * Int32 views of whole buffers, one slot for sources and one for destinations: a display reads
 * the same resource into the same surface frame after frame, so the views are made once, not
 * once a call. A slot keeps its last buffer reachable until another buffer replaces it.
 */
const viewCache: { buffer: ArrayBufferLike | null; view: Int32Array }[] = [
  { buffer: null, view: new Int32Array(0) },
  { buffer: null, view: new Int32Array(0) },
];

function int32View(buffer: ArrayBufferLike, slot: 0 | 1): Int32Array {
  const c = viewCache[slot];
  if (c.buffer !== buffer) {
    c.buffer = buffer;
    c.view = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  }
  return c.view;
}

/** One byte at a time from the format's layout: unaligned buffers and big-endian hosts. */
function convertBytes(l: PixelLayout, src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number, pixels: number): void {
  const { r, g, b, a } = l;
  let s = srcOffset;
  const end = dstOffset + pixels * 4;
  for (let d = dstOffset; d < end; d += 4, s += 4) {
    dst[d] = src[s + r];
    dst[d + 1] = src[s + g];
    dst[d + 2] = src[s + b];
    dst[d + 3] = a < 0 ? 255 : src[s + a];
  }
}

/**
 * Convert `pixels` pixels from `src` (format `srcFormat`) at `srcOffset` into `dst` (format
 * `dstFormat`) at `dstOffset`; the caller checked both ranges. Pixels are copied as they are when
 * the colour bytes sit in the same places and the destination has no alpha (B8G8R8A8 or
 * B8G8R8X8 into B8G8R8X8: its X byte is then whatever the source had); otherwise channels move
 * and an alpha from an X source, or an X destination byte, is 255. With `opaque`, the
 * destination's alpha or X byte is always 255. False for an unknown format.
 * (RGBA8 destinations have the faster {@link convertRectToRgba}.)
 */
export function convertRow(
  srcFormat: number,
  src: Uint8Array,
  srcOffset: number,
  dstFormat: number,
  dst: Uint8Array,
  dstOffset: number,
  pixels: number,
  opaque = false,
): boolean {
  const d = PIXEL_FORMATS.get(dstFormat);
  const s = opaque ? OPAQUE_LAYOUTS.get(srcFormat) : PIXEL_FORMATS.get(srcFormat);
  if (!s || !d) return false;
  if (!opaque && (srcFormat === dstFormat || (s.r === d.r && s.g === d.g && s.b === d.b && d.a < 0))) {
    dst.set(src.subarray(srcOffset, srcOffset + pixels * 4), dstOffset);
    return true;
  }
  // The destination's fourth byte: its alpha, or the X byte (the one position r, g, b leave).
  const fourth = d.a >= 0 ? d.a : 6 - d.r - d.g - d.b;
  let si = srcOffset;
  let di = dstOffset;
  const end = dstOffset + pixels * 4;
  for (; di < end; di += 4, si += 4) {
    dst[di + d.r] = src[si + s.r];
    dst[di + d.g] = src[si + s.g];
    dst[di + d.b] = src[si + s.b];
    dst[di + fourth] = d.a >= 0 && s.a >= 0 ? src[si + s.a] : 255;
  }
  return true;
}
