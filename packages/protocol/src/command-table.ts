/**
 * The command table: every {@link CommandSpec}, and lookups by hdr.type. Types are dense in three
 * ranges (0x0100.. 2D, 0x0200.. 3D, 0x0300.. cursor), so a typed array spanning them maps a type to
 * its slot with one load (decoders look a spec up once per command).
 */
import { COMMANDS_2D } from './commands-2d.js';
import { COMMANDS_3D } from './commands-3d.js';
import type { CommandSpec } from './command-spec.js';

/** Every command spec; a spec's index here is its slot. */
export const COMMAND_SPECS: readonly CommandSpec[] = [...COMMANDS_2D, ...COMMANDS_3D];

const FIRST = Math.min(...COMMAND_SPECS.map((s) => s.type));
const LAST = Math.max(...COMMAND_SPECS.map((s) => s.type));
const SLOT_BY_TYPE = (() => {
  const t = new Int8Array(LAST - FIRST + 1).fill(-1);
  COMMAND_SPECS.forEach((s, i) => {
    if (t[s.type - FIRST] !== -1) throw new Error(`command table: type 0x${s.type.toString(16)} twice`);
    t[s.type - FIRST] = i;
  });
  return t;
})();

/** The slot of command type `type` in {@link COMMAND_SPECS}, or -1 when it is not a command. */
export function commandSlot(type: number): number {
  const i = type - FIRST;
  // Integers only: a typed array read at a fractional index is undefined.
  return i >= 0 && i < SLOT_BY_TYPE.length && Number.isInteger(i) ? SLOT_BY_TYPE[i] : -1;
}

/** The spec of command type `type`, or undefined when it is not a command. */
export function commandSpec(type: number): CommandSpec | undefined {
  const slot = commandSlot(type);
  return slot < 0 ? undefined : COMMAND_SPECS[slot];
}
