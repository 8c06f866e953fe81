/**
 * A struct's fields as data: kind, camelCase name and offset, in C order. The command and
 * response tables list them once; encoding, JSON and (off the queue path) decoding are generic
 * over the list, so a field is named in one place. JSON keys are the C names (snake_case of the
 * camelCase ones), 64-bit values decimal strings, an absent `padding` 0.
 */
import { CursorPos } from './layouts.js';
import { readU64, u32, w32, writeU64 } from './view.js';
import { fillBox, fillRect, rectJson, writeBox, writeRect, writeU32x4 } from './wire.js';

/** What a field holds: a le32, a le64 (bigint), a rect, a box, a cursor position, or le32[4]. */
export type FieldKind = 'u32' | 'u64' | 'rect' | 'box' | 'pos' | 'u32x4';

/** One field: its kind, its camelCase name (a key of its offset table) and its offset. */
export type Field = readonly [kind: FieldKind, name: string, offset: number];

/**
 * The fields `kinds` names, in the order given (C order), at the offsets `layout` (the struct's
 * offset table, layouts.ts) has under the same names.
 */
export function fields<L extends Readonly<Record<string, number>>>(layout: L, kinds: { readonly [K in keyof L & string]?: FieldKind }): readonly Field[] {
  return Object.entries(kinds).map(([name, kind]) => [kind as FieldKind, name, layout[name]] as const);
}

/**
 * A decoded struct seen as a record of its fields, for the generic codecs: the one cast of the
 * tables. They only pair a struct's type with its own field list, so every name used exists.
 */
function rec(v: object): Record<string, unknown> {
  return v as Record<string, unknown>;
}

/** `capsetMaxVersion` -> `capset_max_version`. */
export function cName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Reads `list` from the struct at `at` into `target`, reusing its rect, box, pos and arrays. */
export function readFields(target: object, list: readonly Field[], b: Uint8Array, at: number): void {
  const o = rec(target);
  for (const [kind, name, off] of list) {
    const p = at + off;
    switch (kind) {
      case 'u32':
        o[name] = u32(b, p);
        break;
      case 'u64':
        o[name] = readU64(b, p);
        break;
      case 'rect':
        fillRect(o[name] as Parameters<typeof fillRect>[0], b, p);
        break;
      case 'box':
        fillBox(o[name] as Parameters<typeof fillBox>[0], b, p);
        break;
      case 'pos': {
        const pos = rec(o[name] as object);
        pos.scanoutId = u32(b, p + CursorPos.scanoutId);
        pos.x = u32(b, p + CursorPos.x);
        pos.y = u32(b, p + CursorPos.y);
        pos.padding = u32(b, p + CursorPos.padding);
        break;
      }
      case 'u32x4': {
        const a = o[name] as number[];
        for (let i = 0; i < 4; i++) a[i] = u32(b, p + 4 * i);
        break;
      }
    }
  }
}

/** Writes `list` of `source` into the struct at `at` (an absent `padding` as 0). */
export function writeFields(source: object, list: readonly Field[], out: Uint8Array, at: number): void {
  const o = rec(source);
  for (const [kind, name, off] of list) {
    const p = at + off;
    const v = o[name];
    switch (kind) {
      case 'u32':
        w32(out, p, (v as number | undefined) ?? 0);
        break;
      case 'u64':
        writeU64(out, p, v as bigint);
        break;
      case 'rect':
        writeRect(out, p, v as Parameters<typeof writeRect>[2]);
        break;
      case 'box':
        writeBox(out, p, v as Parameters<typeof writeBox>[2]);
        break;
      case 'pos': {
        const pos = rec(v as object);
        w32(out, p + CursorPos.scanoutId, pos.scanoutId as number);
        w32(out, p + CursorPos.x, pos.x as number);
        w32(out, p + CursorPos.y, pos.y as number);
        w32(out, p + CursorPos.padding, (pos.padding as number | undefined) ?? 0);
        break;
      }
      case 'u32x4':
        writeU32x4(out, p, v as number[], name);
        break;
    }
  }
}

/** `list` of `source` as JSON-ready values under their C names. */
export function fieldsJson(source: object, list: readonly Field[]): Record<string, unknown> {
  const o = rec(source);
  const out: Record<string, unknown> = {};
  for (const [kind, name] of list) {
    const v = o[name];
    switch (kind) {
      case 'u32':
        out[cName(name)] = (v as number | undefined) ?? 0;
        break;
      case 'u64':
        out[cName(name)] = String(v);
        break;
      case 'rect':
        out[cName(name)] = rectJson(v as Parameters<typeof rectJson>[0]);
        break;
      case 'box': {
        const b = rec(v as object);
        out[cName(name)] = { x: b.x, y: b.y, z: b.z, w: b.w, h: b.h, d: b.d };
        break;
      }
      case 'pos': {
        const pos = rec(v as object);
        out[cName(name)] = { scanout_id: pos.scanoutId, x: pos.x, y: pos.y, padding: (pos.padding as number | undefined) ?? 0 };
        break;
      }
      case 'u32x4':
        out[cName(name)] = [...(v as number[])];
        break;
    }
  }
  return out;
}
