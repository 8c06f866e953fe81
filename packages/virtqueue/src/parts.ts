/**
 * Copies between one buffer and the pieces GuestMemory.slices gives for a range that crosses
 * regions. Internal to the package (not exported from its entry).
 */

/** Copies `parts` (a range's pieces, in order) into `dst`; false when `parts` is null (unmapped). */
export function gatherParts(parts: readonly Uint8Array[] | null, dst: Uint8Array): boolean {
  if (parts === null) return false;
  let at = 0;
  for (const p of parts) {
    dst.set(p, at);
    at += p.length;
  }
  return true;
}

/** Copies `src` over `parts` (a range's pieces, in order); false when `parts` is null (unmapped). */
export function scatterParts(parts: readonly Uint8Array[] | null, src: Uint8Array): boolean {
  if (parts === null) return false;
  let at = 0;
  for (const p of parts) {
    p.set(src.subarray(at, at + p.length));
    at += p.length;
  }
  return true;
}
