import { PNG } from 'pngjs';

/**
 * Decodes a PNG with pngjs (Node's zlib inflate): an implementation independent of the encoder's
 * fflate deflate, so a test that round-trips pixels through both checks the file, not one library
 * against itself. Tests only; pngjs is a devDependency. Not exported from the package.
 */
export function decodePng(png: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const decoded = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  return { width: decoded.width, height: decoded.height, data: new Uint8Array(decoded.data) };
}
