import { writeFile } from 'node:fs/promises';
import type { Display, PngOptions } from './display.js';

/**
 * Writes `display.toPng(scanoutId, options)` to `path` (Node only: it needs the file system).
 * @throws RangeError when the scanout is disabled or the id invalid; rejects on I/O errors.
 */
export async function writePng(path: string, display: Display, scanoutId: number, options: PngOptions = {}): Promise<void> {
  await writeFile(path, display.toPng(scanoutId, options));
}
