/** The engine's own test target: a bug behind five byte comparisons (random bytes alone hit it once in 2^40). */
export const maxLen = 8;

export function fuzz(d: Uint8Array): void {
  if (d.length < 8) return;
  if (d[0] === 0x46) {
    if (d[1] === 0x55) {
      if (d[2] === 0x5a) {
        if (d[3] === 0x5a) {
          if (d[4] === 0x21) throw new Error('planted bug reached');
        }
      }
    }
  }
}
