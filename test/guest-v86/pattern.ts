/**
 * The picture test/guest-v86/init draws on its framebuffer, computed here from its definition
 * (see the comment at the top of init), as RGBA8 rows of `width * 4` bytes.
 */
const BARS: [number, number, number][] = [
  [255, 255, 255], [255, 255, 0], [0, 255, 255], [0, 255, 0], [255, 0, 255], [255, 0, 0], [0, 0, 255], [0, 0, 0],
];

/** RGB of pixel (x, y) of the W x H pattern. */
export function patternPixel(x: number, y: number, w: number, h: number): [number, number, number] {
  const top = Math.floor(h / 2);
  if (y < top) {
    const bw = Math.floor(w / 8);
    return BARS[Math.min(7, Math.floor(x / bw))];
  }
  const white = (Math.floor((y - top) / 32) + Math.floor(x / 32)) % 2 === 0;
  return white ? [255, 255, 255] : [0, 0, 0];
}

/** The whole W x H pattern, RGBA8, opaque. */
export function patternRgba(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = patternPixel(x, y, w, h);
      const at = (y * w + x) * 4;
      out[at] = r;
      out[at + 1] = g;
      out[at + 2] = b;
      out[at + 3] = 255;
    }
  }
  return out;
}

/** Pixels of `rgba` (W x H, RGBA8) that differ from the pattern in R, G or B. */
export function patternMismatches(rgba: Uint8Array, w: number, h: number): number {
  let bad = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = patternPixel(x, y, w, h);
      const at = (y * w + x) * 4;
      if (rgba[at] !== r || rgba[at + 1] !== g || rgba[at + 2] !== b) bad++;
    }
  }
  return bad;
}

/** WxH of each detailed timing descriptor in a 128-byte EDID base block (VESA E-EDID §3.10.2). */
export function edidDetailedModes(edid: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 54; at < 126; at += 18) {
    if (edid[at] === 0 && edid[at + 1] === 0) continue; // a display descriptor, not a timing
    const w = edid[at + 2] | ((edid[at + 4] & 0xf0) << 4);
    const h = edid[at + 5] | ((edid[at + 7] & 0xf0) << 4);
    out.push(`${w}x${h}`);
  }
  return out;
}

/** Hex string to bytes. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Where .ci/run and test/guest-v86/build.sh put the guest. */
export const GUEST_DIR = new URL('../../.cache/guest-v86/', import.meta.url).pathname;
