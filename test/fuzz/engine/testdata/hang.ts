/** The engine's own test target: loops forever on an input starting with 0x99. */
export function fuzz(d: Uint8Array): void {
  if (d[0] === 0x99) for (;;);
}
