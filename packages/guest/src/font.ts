/**
 * A 5x7 bitmap font for the demo's captions: enough glyphs for labels and counters. Each glyph
 * is 7 rows of 5 bits, most significant bit leftmost.
 */
const GLYPHS: Record<string, number[]> = {
  '0': [14, 17, 19, 21, 25, 17, 14], '1': [4, 12, 4, 4, 4, 4, 14], '2': [14, 17, 1, 2, 4, 8, 31],
  '3': [31, 2, 4, 2, 1, 17, 14], '4': [2, 6, 10, 18, 31, 2, 2], '5': [31, 16, 30, 1, 1, 17, 14],
  '6': [6, 8, 16, 30, 17, 17, 14], '7': [31, 1, 2, 4, 8, 8, 8], '8': [14, 17, 17, 14, 17, 17, 14],
  '9': [14, 17, 17, 15, 1, 2, 12], A: [14, 17, 17, 31, 17, 17, 17], B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14], D: [28, 18, 17, 17, 17, 18, 28], E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16], G: [14, 17, 16, 23, 17, 17, 15], H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14], J: [7, 2, 2, 2, 2, 18, 12], K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31], M: [17, 27, 21, 21, 17, 17, 17], N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14], P: [30, 17, 17, 30, 16, 16, 16], Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17], S: [15, 16, 16, 14, 1, 1, 30], T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14], V: [17, 17, 17, 17, 17, 10, 4], W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17], Y: [17, 17, 10, 4, 4, 4, 4], Z: [31, 1, 2, 4, 8, 16, 31],
  '-': [0, 0, 0, 31, 0, 0, 0], ':': [0, 12, 12, 0, 12, 12, 0], '.': [0, 0, 0, 0, 0, 12, 12],
  '/': [1, 1, 2, 4, 8, 16, 16], ' ': [0, 0, 0, 0, 0, 0, 0], '#': [10, 10, 31, 10, 31, 10, 10],
  '=': [0, 0, 31, 0, 31, 0, 0], x: [0, 0, 17, 10, 4, 10, 17],
};

/**
 * Draws `text` into a 32-bit pixel buffer (`width` pixels per row) at (x, y), each font pixel
 * `scale` x `scale` device pixels. Unknown characters draw as blanks; drawing is clipped.
 */
export function drawText(px: Uint32Array, width: number, height: number, x: number, y: number, text: string, color: number, scale = 2): void {
  for (let i = 0; i < text.length; i++) {
    const rows = GLYPHS[text[i]!] ?? GLYPHS[text[i]!.toUpperCase()] ?? GLYPHS[' ']!;
    const gx = x + i * 6 * scale;
    for (let r = 0; r < 7; r++) {
      const bits = rows[r]!;
      for (let c = 0; c < 5; c++) {
        if (!(bits & (16 >> c))) continue;
        for (let sy = 0; sy < scale; sy++) {
          const py = y + r * scale + sy;
          if (py < 0 || py >= height) continue;
          for (let sx = 0; sx < scale; sx++) {
            const pxX = gx + c * scale + sx;
            if (pxX >= 0 && pxX < width) px[py * width + pxX] = color;
          }
        }
      }
    }
  }
}
