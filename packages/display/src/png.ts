/**
 * PNG encoding (RFC 2083 / ISO 15948) of RGBA8 images, in plain JavaScript so it runs the same in
 * Node and in a browser.
 *
 * Compression is fflate's synchronous zlib at level 6, not CompressionStream: CompressionStream is
 * asynchronous (a screenshot would need a promise) and its bytes come from each engine's own zlib,
 * so the same pixels could give different files in Chromium, Firefox and Node. fflate is one small
 * pure-JS implementation (no dependencies, used by many bundlers and viewers), so the same pixels
 * give the same bytes everywhere: golden files and content hashes stay stable.
 */
import { zlibSync } from 'fflate';
import type { RgbaImage } from './types.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** IHDR colour type 6: truecolour with alpha. */
const COLOR_TYPE_RGBA = 6;
const BYTES_PER_PIXEL = 4;
/** zlib level 6: zlib's own default, the usual size/speed balance. */
const DEFLATE_LEVEL = 6;

/**
 * Encodes an RGBA8 image as PNG (colour type 6, 8 bits, no interlace). Each row gets the filter
 * with the smallest sum of absolute residuals (libpng's heuristic); the output is a pure function
 * of the pixels, identical in every engine.
 * @throws RangeError when the image's size, stride or buffer are inconsistent (a host bug).
 */
export function encodePng(image: RgbaImage): Uint8Array {
  const { width, height, strideBytes, data } = image;
  const rowBytes = width * BYTES_PER_PIXEL;
  if (!isPositiveInt(width) || !isPositiveInt(height) || !Number.isInteger(strideBytes) || strideBytes < rowBytes) {
    throw new RangeError(`encodePng: bad image geometry ${width}x${height}, stride ${strideBytes}`);
  }
  if ((height - 1) * strideBytes + rowBytes > data.byteLength) throw new RangeError('encodePng: data shorter than the image');

  const idat = zlibSync(filterRows(data, width, height, strideBytes), { level: DEFLATE_LEVEL });
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE_RGBA;
  // compression 0 (deflate), filter method 0 (adaptive), interlace 0: already zero.

  const out = new Uint8Array(SIGNATURE.length + 3 * 12 + ihdr.length + idat.length);
  out.set(SIGNATURE, 0);
  let at = SIGNATURE.length;
  at = writeChunk(out, at, 'IHDR', ihdr);
  at = writeChunk(out, at, 'IDAT', idat);
  writeChunk(out, at, 'IEND', new Uint8Array(0));
  return out;
}

/** Filter types of PNG filter method 0 (PNG spec 9.2). */
const FILTER_NONE = 0;
const FILTER_SUB = 1;
const FILTER_UP = 2;
const FILTER_AVERAGE = 3;
const FILTER_PAETH = 4;

/** The filtered scanlines: per row one filter-type byte and the row's residuals. */
function filterRows(data: Uint8Array, width: number, height: number, strideBytes: number): Uint8Array {
  const rowBytes = width * BYTES_PER_PIXEL;
  const out = new Uint8Array(height * (rowBytes + 1));
  // The first row's "previous row" is all zero (PNG spec 9.2).
  const zeroRow = new Uint8Array(rowBytes);
  const sums = [0, 0, 0, 0, 0];
  for (let y = 0; y < height; y++) {
    const cur = y * strideBytes;
    const prevData = y === 0 ? zeroRow : data;
    const prev = y === 0 ? 0 : cur - strideBytes;
    costs(data, cur, prevData, prev, rowBytes, sums);
    let best = FILTER_NONE;
    for (let f = FILTER_SUB; f <= FILTER_PAETH; f++) if (sums[f] < sums[best]) best = f;
    const at = y * (rowBytes + 1);
    out[at] = best;
    writeFiltered(best, data, cur, prevData, prev, rowBytes, out, at + 1);
  }
  return out;
}

/**
 * For each filter, the sum of |residual| over the row at `data[cur]` (residual bytes read as
 * signed), the previous row being at `up[prev]`: libpng's heuristic picks the filter with the
 * smallest. One pass computes all five.
 */
function costs(data: Uint8Array, cur: number, up: Uint8Array, prev: number, n: number, sums: number[]): void {
  const bpp = BYTES_PER_PIXEL;
  let none = 0;
  let sub = 0;
  let upSum = 0;
  let avg = 0;
  let pae = 0;
  // The first pixel has no left neighbour: a = c = 0, so Sub is None and Paeth predicts b.
  for (let i = 0; i < bpp; i++) {
    const x = data[cur + i];
    const b = up[prev + i];
    none += absSigned(x);
    sub += absSigned(x);
    upSum += absSigned(x - b);
    avg += absSigned(x - (b >> 1));
    pae += absSigned(x - b);
  }
  for (let i = bpp; i < n; i++) {
    const x = data[cur + i];
    const a = data[cur + i - bpp];
    const b = up[prev + i];
    const c = up[prev + i - bpp];
    none += absSigned(x);
    sub += absSigned(x - a);
    upSum += absSigned(x - b);
    avg += absSigned(x - ((a + b) >> 1));
    pae += absSigned(x - paeth(a, b, c));
  }
  sums[FILTER_NONE] = none;
  sums[FILTER_SUB] = sub;
  sums[FILTER_UP] = upSum;
  sums[FILTER_AVERAGE] = avg;
  sums[FILTER_PAETH] = pae;
}

/** Writes the row at `data[cur]` filtered with `f` into `out` at `at` (same conventions as {@link costs}). */
function writeFiltered(f: number, data: Uint8Array, cur: number, up: Uint8Array, prev: number, n: number, out: Uint8Array, at: number): void {
  const bpp = BYTES_PER_PIXEL;
  for (let i = 0; i < n; i++) {
    const x = data[cur + i];
    const a = i >= bpp ? data[cur + i - bpp] : 0;
    const b = up[prev + i];
    let r: number;
    if (f === FILTER_NONE) r = x;
    else if (f === FILTER_SUB) r = x - a;
    else if (f === FILTER_UP) r = x - b;
    else if (f === FILTER_AVERAGE) r = x - ((a + b) >> 1);
    else r = x - paeth(a, b, i >= bpp ? up[prev + i - bpp] : 0);
    out[at + i] = r;
  }
}

/** |r| of a residual taken mod 256 and read as a signed byte. */
function absSigned(r: number): number {
  const t = (r << 24) >> 24;
  return t < 0 ? -t : t;
}

/** The Paeth predictor (PNG spec 9.4): whichever of left, up, upper-left is closest to a + b - c. */
function paeth(a: number, b: number, c: number): number {
  const pa = Math.abs(b - c);
  const pb = Math.abs(a - c);
  const pc = Math.abs(a + b - c - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Writes one chunk (length, type, data, CRC over type and data) at `at`; returns the end. */
function writeChunk(out: Uint8Array, at: number, type: string, body: Uint8Array): number {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(at, body.length);
  for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
  out.set(body, at + 8);
  v.setUint32(at + 8 + body.length, crc32(out, at + 4, 4 + body.length));
  return at + 12 + body.length;
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, the polynomial PNG and zlib's crc32 use) of `len` bytes of `buf` from `at`. */
function crc32(buf: Uint8Array, at = 0, len = buf.length - at): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = at; i < at + len; i++) c = crcTable[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function isPositiveInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}
