/**
 * A WebAssembly SIMD kernel for the pixel conversions of pixel-formats.ts: one 16-byte byte
 * permutation (i8x16.swizzle) converts four pixels, where JavaScript moves one 32-bit pixel at a
 * time. The module is ~200 bytes, assembled below from named opcodes (WebAssembly core spec 5.4,
 * SIMD proposal opcodes), so the package stays plain TypeScript with no build step and no binary
 * file.
 *
 * Wasm can only touch its own memory. Pixels in an ordinary buffer go through the shared scratch:
 * copy a chunk in, shuffle it in place, copy it out. Large images (scanouts) instead live in a
 * PixelStore, a wasm memory of their own, and the kernel reads them in place: one pass into the
 * scratch and one copy out, where the first way takes three (see scratchOffset for where a chunk
 * goes in the scratch, and why).
 *
 * Where WebAssembly or its SIMD is missing, or a page's Content-Security-Policy forbids compiling
 * it, `simdSwizzle()` and `createPixelStore()` return null and callers use plain buffers and the
 * JavaScript kernels.
 */

/** Byte order changes, as the source byte each RGBA8 output byte takes (within one pixel). */
export const SWIZZLES = {
  /** B8G8R8A8 / B8G8R8X8 */
  swapRedBlue: [2, 1, 0, 3],
  /** A8R8G8B8 / X8R8G8B8 */
  rotateRight8: [1, 2, 3, 0],
  /** A8B8G8R8 / X8B8G8R8 */
  byteSwap: [3, 2, 1, 0],
  /** R8G8B8X8 (alpha forced) */
  identity: [0, 1, 2, 3],
} as const;

/** Which swizzle to run. */
export type SwizzleName = keyof typeof SWIZZLES;

/** A kernel instance over one wasm memory. */
export interface SimdKernel {
  /** The whole memory the kernel works in. */
  readonly memory: Uint8Array;
  /**
   * Converts `bytes` bytes (rounded up to 64; the memory has room) from `src` to `dst` (both
   * offsets in `memory`, equal for in place) with `name`, OR-ing `alpha` (an int32, e.g.
   * 0xff << 24 to force opaque) into every pixel.
   */
  run(name: SwizzleName, src: number, dst: number, bytes: number, alpha: number): void;
  /**
   * ORs `alpha` into every pixel of `bytes` bytes at `offset` (rounded up to 64 bytes: callers
   * pad the slack with 0xff) and returns whether any pixel lacked those bits, i.e. whether the
   * bytes changed. In-place alpha forcing skips copying back a chunk that was already opaque.
   */
  orAlpha(offset: number, bytes: number, alpha: number): boolean;
}

/**
 * An image's pixels kept in a wasm memory of their own, so the kernel reads them where they
 * are: a conversion is then one pass into the scratch and one copy out, not three passes.
 */
export interface PixelStore {
  /** The pixels: a view of the first `bytes` bytes of the memory. */
  readonly pixels: Uint8Array;
  readonly kernel: SimdKernel;
  /** Start of the scratch area, after the pixels; place chunks at `scratchBase + scratchOffset(...)`. */
  readonly scratchBase: number;
  /**
   * Call when the image is destroyed: frees its place under the live-store limit at once. A store
   * that is simply dropped frees its place when it is garbage-collected.
   */
  release(): void;
}

/** Most bytes converted per call: a chunk in and out stays within L1. */
export const SCRATCH_BYTES = 16 * 1024;

/**
 * Where to place a chunk headed for byte `dstByteOffset` of its destination buffer, relative to
 * a page-aligned scratch area: 2 KiB away from it modulo 4 KiB. A memcpy whose source and
 * destination sit at the same offset within a 4 KiB page stalls on every load (4K aliasing: the
 * CPU matches loads to pending stores by the low 12 address bits); measured 10x slower copying
 * out of a page-aligned scratch into a page-aligned surface. Large buffers start page-aligned
 * (plus malloc's small header), so a destination offset predicts its page offset, and the image
 * it was read from usually shares it.
 */
export function scratchOffset(dstByteOffset: number): number {
  return 4096 + ((dstByteOffset + 2048) & 4095);
}

/** Bytes a scratch area needs past its base: the furthest chunk placement plus the loops' slack. */
const SCRATCH_AREA = 8192 + SCRATCH_BYTES + 64;

/** Images at least this big get a PixelStore: scanout-sized, where conversion speed matters. */
export const PIXEL_STORE_MIN_BYTES = 256 * 1024;

/**
 * Most PixelStores alive at once. Each wasm memory reserves several GiB of address space for its
 * guard region (64-bit engines), and engines cap the total, so a guest that creates many large
 * resources gets plain buffers past this many: slower readback, nothing else.
 */
export const MAX_PIXEL_STORES = 16;

const NAMES = Object.keys(SWIZZLES) as SwizzleName[];
const WASM_PAGE = 65536;

let compiled: WebAssembly.Module | null | undefined;
let shared: SimdKernel | null | undefined;
let liveStores = 0;

/** Frees the place of a store dropped without release(), once the engine collects it. */
const collected =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ released: boolean }>((state) => {
        if (!state.released) {
          state.released = true;
          liveStores--;
        }
      })
    : null;

/** The module, compiled on first use; null where WebAssembly SIMD cannot run. */
function module(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = assemble();
    if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
  } catch {
    // CompileError from a CSP without 'wasm-unsafe-eval', or an engine without SIMD.
    compiled = null;
  }
  return compiled;
}

/** An instance of the kernel over a fresh, fixed-size memory of `pages` pages; null on failure. */
function instantiate(pages: number): SimdKernel | null {
  const m = module();
  if (m === null) return null;
  try {
    // Fixed size (maximum = initial): the memory never grows, so views of it stay valid.
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const exports = new WebAssembly.Instance(m, { env: { memory } }).exports as Record<string, unknown>;
    const byName = new Map(NAMES.map((n) => [n, exports[n] as (src: number, dst: number, end: number, alpha: number) => void]));
    const orAlpha = exports.orAlpha as (start: number, end: number, alpha: number) => number;
    return {
      memory: new Uint8Array(memory.buffer),
      run(name, src, dst, n, alpha) {
        byName.get(name)!(src, dst, src + n, alpha);
      },
      orAlpha(offset, n, alpha) {
        return orAlpha(offset, offset + n, alpha) !== 0;
      },
    };
  } catch {
    // Out of address space for another wasm memory: the caller falls back.
    return null;
  }
}

/** The shared kernel whose memory is all scratch (at offset 0); null where WebAssembly SIMD cannot run. */
export function simdSwizzle(): SimdKernel | null {
  if (shared === undefined) shared = instantiate(Math.ceil(SCRATCH_AREA / WASM_PAGE));
  return shared;
}

/**
 * A PixelStore for an image of `bytes` bytes, or null (too small to be worth it, the live-store
 * limit reached, no WebAssembly SIMD, or the engine refused the memory): use a plain buffer then.
 */
export function createPixelStore(bytes: number): PixelStore | null {
  if (bytes < PIXEL_STORE_MIN_BYTES || liveStores >= MAX_PIXEL_STORES) return null;
  // The shared scratch first: stores must never take the address space it needs.
  if (simdSwizzle() === null) return null;
  const scratchBase = Math.ceil(bytes / 4096) * 4096;
  const kernel = instantiate(Math.ceil((scratchBase + SCRATCH_AREA) / WASM_PAGE));
  if (kernel === null) return null;
  liveStores++;
  const state = { released: false };
  const store: PixelStore = {
    pixels: kernel.memory.subarray(0, bytes),
    kernel,
    scratchBase,
    release() {
      if (state.released) return;
      state.released = true;
      liveStores--;
      collected?.unregister(state);
    },
  };
  collected?.register(store, state, state);
  return store;
}

// ---- the assembler --------------------------------------------------------------------------

const I32 = 0x7f;
const V128 = 0x7b;
const OP = {
  block: 0x02,
  loop: 0x03,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32LtU: 0x49,
  i32Add: 0x6a,
  simd: 0xfd,
} as const;
const SIMD = {
  v128Load: 0x00,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Swizzle: 0x0e,
  i32x4Splat: 0x11,
  v128And: 0x4e,
  v128AndNot: 0x4f,
  v128Or: 0x50,
  v128AnyTrue: 0x53,
} as const;
/** Block type of a block or loop with no results. */
const EMPTY = 0x40;
/** v128 alignment hint (log2 of 16). */
const ALIGN_16 = 4;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, as i32.const wants (64 needs two bytes: its bit 6 is the sign bit). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/**
 * (func (param $p i32) (param $q i32) (param $end i32) (param $alpha i32) (local $a v128) (local $m v128)
 *   $a = i32x4.splat($alpha); $m = v128.const(lanes)
 *   while ($p < $end) { four times:
 *     v128.store($q + k*16, v128.or(i8x16.swizzle(v128.load($p + k*16), $m), $a)); $p += 64; $q += 64 }
 * i8x16.swizzle with the lanes in a local, not i8x16.shuffle with them as immediates: V8 (Node
 * 20) builds a shuffle's 16-byte mask anew for every shuffle, which made the kernel 2x slower than
 * a copy; a swizzle by a mask held in a register runs at copy speed (measured 800x600, swap red
 * and blue: 1.5x a memcpy's time with shuffle, 0.7x with swizzle). Lanes are all < 16, so swizzle
 * and shuffle agree. Four vectors an iteration halve the loop overhead; up to 60 bytes past `end`
 * are converted too, which the memory's slack allows and callers ignore.
 */
function swizzleBody(pixelLanes: readonly number[]): number[] {
  const lanes: number[] = [];
  for (let px = 0; px < 4; px++) for (const l of pixelLanes) lanes.push(px * 4 + l);
  const [p, q, end, alpha, a, m] = [0, 1, 2, 3, 4, 5];
  const one = (offset: number) => [
    OP.localGet, q,
    OP.localGet, p, OP.simd, ...uleb(SIMD.v128Load), ALIGN_16, offset,
    OP.localGet, m, OP.simd, ...uleb(SIMD.i8x16Swizzle),
    OP.localGet, a, OP.simd, ...uleb(SIMD.v128Or),
    OP.simd, ...uleb(SIMD.v128Store), ALIGN_16, offset,
  ];
  const code = [
    OP.localGet, alpha, OP.simd, ...uleb(SIMD.i32x4Splat), OP.localSet, a,
    OP.simd, ...uleb(SIMD.v128Const), ...lanes, OP.localSet, m,
    OP.block, EMPTY,
    OP.localGet, p, OP.localGet, end, OP.i32GeU, OP.brIf, 0,
    OP.loop, EMPTY,
    ...one(0), ...one(16), ...one(32), ...one(48),
    OP.localGet, q, OP.i32Const, ...sleb(64), OP.i32Add, OP.localSet, q,
    OP.localGet, p, OP.i32Const, ...sleb(64), OP.i32Add, OP.localTee, p,
    OP.localGet, end, OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  const locals = [1, 2, V128];
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

/**
 * (func (param $p i32) (param $end i32) (param $alpha i32) (result i32) (local $a v128) (local $v v128) (local $acc v128)
 *   $a = i32x4.splat($alpha); $acc = all ones
 *   while ($p < $end) { four times: v = v128.load($p + k*16); $acc &= v; v128.store($p + k*16, v | $a); $p += 64 }
 *   return v128.any_true($a & ~$acc)      ;; some pixel lacked an alpha bit
 */
function orAlphaBody(): number[] {
  const [p, end, alpha, a, v, acc] = [0, 1, 2, 3, 4, 5];
  const one = (offset: number) => [
    OP.localGet, p,
    OP.localGet, p, OP.simd, ...uleb(SIMD.v128Load), ALIGN_16, offset, OP.localTee, v,
    OP.localGet, acc, OP.simd, ...uleb(SIMD.v128And), OP.localSet, acc,
    OP.localGet, v, OP.localGet, a, OP.simd, ...uleb(SIMD.v128Or),
    OP.simd, ...uleb(SIMD.v128Store), ALIGN_16, offset,
  ];
  const code = [
    OP.localGet, alpha, OP.simd, ...uleb(SIMD.i32x4Splat), OP.localSet, a,
    OP.simd, ...uleb(SIMD.v128Const), ...new Array<number>(16).fill(0xff), OP.localSet, acc,
    OP.block, EMPTY,
    OP.localGet, p, OP.localGet, end, OP.i32GeU, OP.brIf, 0,
    OP.loop, EMPTY,
    ...one(0), ...one(16), ...one(32), ...one(48),
    OP.localGet, p, OP.i32Const, ...sleb(64), OP.i32Add, OP.localTee, p,
    OP.localGet, end, OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.localGet, a, OP.localGet, acc, OP.simd, ...uleb(SIMD.v128AndNot), OP.simd, ...uleb(SIMD.v128AnyTrue),
    OP.end,
  ];
  const locals = [1, 3, V128];
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

/**
 * The module: it imports its memory (env.memory), so one compiled module serves the shared
 * scratch and every PixelStore; it exports one function per swizzle and `orAlpha`. Types: 0 is
 * (i32 i32 i32 i32) -> () for the swizzles, 1 is (i32 i32 i32) -> i32 for orAlpha.
 */
function assemble(): Uint8Array<ArrayBuffer> {
  const types = [0x60, 4, I32, I32, I32, I32, 0, 0x60, 3, I32, I32, I32, 1, I32];
  const fnCount = NAMES.length + 1;
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, ...types]),
    // import "env" "memory": a memory of at least one page, no maximum required.
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [fnCount, ...NAMES.map(() => 0), 1]),
    ...section(7, [
      fnCount,
      ...NAMES.flatMap((n, i) => [...name(n), 0x00, i]),
      ...name('orAlpha'), 0x00, NAMES.length,
    ]),
    ...section(10, [fnCount, ...NAMES.flatMap((n) => swizzleBody(SWIZZLES[n])), ...orAlphaBody()]),
  ];
  return new Uint8Array(bytes);
}
