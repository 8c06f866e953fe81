/**
 * What a command is, in one place: the {@link CommandSpec} every entry of the command table
 * (commands-2d.ts, commands-3d.ts) fills in. decode.ts, encode.ts and describe.ts are generic
 * over it; adding a command means adding its spec (and, in the device, its handler).
 */
import type { CtrlHdr } from './layouts.js';
import type { Command } from './types.js';

/**
 * One command type: its fixed struct, how a decoded object looks, and how it reads, writes and
 * prints. Members are methods so a spec of one command type is also a spec of `Command`.
 */
export interface CommandSpec<T extends Command = Command> {
  /** hdr.type: the VIRTIO_GPU_CMD_* value. */
  readonly type: T['type'];
  /** sizeof the C struct (trailing mem entries or SUBMIT_3D data come on top). */
  readonly size: number;
  /**
   * A zeroed command object around `hdr`, with every property in C struct order: the shape both
   * the allocating decoder and the reused scratch objects have.
   */
  create(hdr: CtrlHdr): T;
  /**
   * Fills `cmd` from the struct at `at`; `len` bytes are there (at least `size`). Reuses what
   * `cmd` already holds (entry objects, arrays). Returns why a count inside disagrees with the
   * bytes present or with the spec (the decoder's `inconsistent` error), or null.
   */
  fill(cmd: T, b: Uint8Array, at: number, len: number): string | null;
  /** Bytes after the fixed struct that encoding `cmd` writes (entries, data); 0 when none. */
  extra(cmd: T): number;
  /** Writes every field after the header (the header is written by the caller). */
  encode(cmd: T, out: Uint8Array, at: number): void;
  /** The fields for a log line, each with a leading space (`' res=3 r=64x64+0+0'`). */
  text(cmd: T): string;
  /** Every field after the header under its C name, JSON-safe (64-bit values as decimal strings). */
  json(cmd: T): Record<string, unknown>;
}

/** For the fixed-size commands: nothing follows the struct. */
export function noExtra(): number {
  return 0;
}

/** For the fixed-size commands: nothing inside can disagree with the bytes present. */
export function consistent(): null {
  return null;
}
