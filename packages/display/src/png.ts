import { writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import type { Display, RgbaImage } from './display.js';

/** Options for `toPng` / `writePng`. */
export interface PngOptions {
  /** Draw the cursor on top (default false: the bare scanout). */
  cursor?: boolean;
}

/**
 * Encodes an RGBA8 image as PNG (colour type 6, 8 bits). The encoder settings are pinned, and
 * zlib is deterministic for fixed settings, so the same pixels always give the same bytes: golden
 * files and content hashes stay stable.
 */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, strideBytes, data } = image;
  const png = new PNG({ width, height, colorType: 6, inputColorType: 6, bitDepth: 8, inputHasAlpha: true });
  const rowBytes = width * 4;
  if (strideBytes === rowBytes) {
    png.data.set(data.subarray(0, rowBytes * height));
  } else {
    for (let y = 0; y < height; y++) png.data.set(data.subarray(y * strideBytes, y * strideBytes + rowBytes), y * rowBytes);
  }
  return PNG.sync.write(png, {
    colorType: 6,
    inputColorType: 6,
    bitDepth: 8,
    inputHasAlpha: true,
    deflateLevel: 6,
    deflateStrategy: 3,
    filterType: -1,
  });
}

/**
 * A PNG of one scanout, optionally with the cursor composited.
 * @throws RangeError when the scanout is disabled or the id invalid (a host call, not guest input).
 */
export function toPng(display: Display, scanoutId: number, options: PngOptions = {}): Buffer {
  return display.toPng(scanoutId, options);
}

/** Writes `toPng(display, scanoutId, options)` to `path`. */
export async function writePng(path: string, display: Display, scanoutId: number, options: PngOptions = {}): Promise<void> {
  await writeFile(path, display.toPng(scanoutId, options));
}
