/**
 * What a command is, in one place: the {@link CommandSpec} every entry of the command table
 * (commands-2d.ts, commands-3d.ts) describes with {@link defineCommand}. decode.ts, encode.ts and
 * describe.ts are generic over it; adding a command means adding its entry (and, in the device,
 * its handler).
 */
import { type Field, fieldsJson, readFields, writeFields } from './fields.js';
import type { CtrlHdr } from './layouts.js';
import type { Command } from './types.js';

/**
 * The part of a command its field list does not describe: mem entries or SUBMIT_3D data after the
 * struct, CTX_CREATE's name. Read after the fields, written after them, printed after them.
 */
export interface CommandRest<T extends Command> {
  /** Reads it (the fields are read); `len` bytes are there from `at`. Returns why it disagrees with the bytes present or the spec, or null. */
  fill(cmd: T, b: Uint8Array, at: number, len: number): string | null;
  /** Bytes it adds after the fixed struct. */
  extra(cmd: T): number;
  /** Writes it. */
  encode(cmd: T, out: Uint8Array, at: number): void;
  /** Its JSON fields, after the struct's. */
  json(cmd: T): Record<string, unknown>;
}

/** A command table entry as written. */
export interface CommandDef<T extends Command> {
  /** hdr.type: the VIRTIO_GPU_CMD_* value. */
  readonly type: T['type'];
  /** sizeof the C struct (trailing mem entries or SUBMIT_3D data come on top). */
  readonly size: number;
  /** The struct's fields after the header, in C order (fields.ts). */
  readonly fields: readonly Field[];
  /** A zeroed command object around `hdr`, every property in C order: the decoders' shape. */
  create(hdr: CtrlHdr): T;
  /** The fields for a log line, each with a leading space (`' res=3 r=64x64+0+0'`). */
  text(cmd: T): string;
  /** What the field list does not cover. */
  readonly rest?: CommandRest<T>;
  /**
   * A hand-written reader for the few fixed-size commands a guest sends per frame (flush,
   * transfer, scanout, cursor): the generic reader costs about 75 ns a command in keyed stores.
   * It must read exactly what the field list says (command-table.test.ts compares the two on
   * random bytes) and returns null.
   */
  fill?(cmd: T, b: Uint8Array, at: number, len: number): string | null;
}

/**
 * One command type: its fixed struct, how a decoded object looks, and how it reads, writes and
 * prints. Members are methods so a spec of one command type is also a spec of `Command`.
 */
export interface CommandSpec<T extends Command = Command> {
  readonly type: T['type'];
  readonly size: number;
  readonly fields: readonly Field[];
  create(hdr: CtrlHdr): T;
  /**
   * Fills `cmd` from the struct at `at`; `len` bytes are there (at least `size`). Reuses what
   * `cmd` already holds (rects, arrays, entry objects). Returns why a count inside disagrees with
   * the bytes present or with the spec (the decoder's `inconsistent` error), or null.
   */
  fill(cmd: T, b: Uint8Array, at: number, len: number): string | null;
  /** Bytes after the fixed struct that encoding `cmd` writes (entries, data); 0 when none. */
  extra(cmd: T): number;
  /** Writes every field after the header (the header is written by the caller). */
  encode(cmd: T, out: Uint8Array, at: number): void;
  /** The fields for a log line. */
  text(cmd: T): string;
  /** Every field after the header under its C name, JSON-safe (64-bit values as decimal strings). */
  json(cmd: T): Record<string, unknown>;
}

/** The complete spec of a table entry: generic field codecs where the entry has none of its own. */
export function defineCommand<T extends Command>(def: CommandDef<T>): CommandSpec<T> {
  const { fields, rest } = def;
  return {
    type: def.type,
    size: def.size,
    fields,
    create: def.create,
    text: def.text,
    fill:
      def.fill ??
      ((cmd, b, at, len) => {
        readFields(cmd, fields, b, at);
        return rest ? rest.fill(cmd, b, at, len) : null;
      }),
    extra: (cmd) => (rest ? rest.extra(cmd) : 0),
    encode(cmd, out, at) {
      writeFields(cmd, fields, out, at);
      rest?.encode(cmd, out, at);
    },
    json: (cmd) => (rest ? { ...fieldsJson(cmd, fields), ...rest.json(cmd) } : fieldsJson(cmd, fields)),
  };
}
