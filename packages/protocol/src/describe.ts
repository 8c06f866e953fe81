/**
 * Human and machine readable renderings of commands and responses: `describe` for logs (one
 * line) and `commandToJson` / `responseToJson` for tools such as `virtio-gpu decode` (C field
 * names, JSON-safe values). The per-type fields come from the command and response tables.
 */
import * as C from './constants.js';
import { commandSpec } from './command-table.js';
import type { CtrlHdr } from './layouts.js';
import { responseSpec } from './responses.js';
import type { Command, Response } from './types.js';

const CMD_PREFIX = 'VIRTIO_GPU_CMD_';

function shortCommand(type: number): string {
  const n = C.commandName(type);
  return n ? n.slice(CMD_PREFIX.length) : `CMD_0x${type.toString(16)}`;
}

function tail(h: CtrlHdr): string {
  let s = ` fence=${h.fenceId} ctx=${h.ctxId}`;
  if (h.flags & C.VIRTIO_GPU_FLAG_FENCE) s += ' F';
  if (h.flags & C.VIRTIO_GPU_FLAG_INFO_RING_IDX) s += ` ring=${h.ringIdx}`;
  return s;
}

/**
 * One readable line for logs, e.g. `RESOURCE_CREATE_2D res=3 fmt=B8G8R8X8_UNORM 640x480 fence=7 ctx=0`.
 * Rects print as WxH+X+Y; ` F` marks VIRTIO_GPU_FLAG_FENCE and ` ring=N` INFO_RING_IDX. Not a
 * stable format: parse commandToJson instead.
 */
export function describe(cmd: Command): string {
  const spec = commandSpec(cmd.type);
  return shortCommand(cmd.type) + (spec ? spec.text(cmd) : '') + tail(cmd.hdr);
}

function hdrJson(h: CtrlHdr, type: number) {
  return { type, flags: h.flags, fence_id: String(h.fenceId), ctx_id: h.ctxId, ring_idx: h.ringIdx };
}

/**
 * The command as a JSON-ready object: `type` is the C name, then every field of the C struct
 * under its C name (nested hdr, r, box, pos as objects; padding as numbers, 0 when unknown),
 * 64-bit values as decimal strings. Trailing payloads: `entries: [{addr, length}]` for
 * ATTACH_BACKING/CREATE_BLOB, `debug_name` (string) for CTX_CREATE, `data_hex` for SUBMIT_3D.
 */
export function commandToJson(cmd: Command): Record<string, unknown> {
  const head = { type: C.commandName(cmd.type) ?? `0x${Number(cmd.type).toString(16)}`, hdr: hdrJson(cmd.hdr, cmd.type) };
  const spec = commandSpec(cmd.type);
  return spec ? { ...head, ...spec.json(cmd) } : head;
}

/**
 * The response as a JSON-ready object, in the same conventions as commandToJson:
 * `pmodes` as objects, capset data / EDID / UUID bytes as hex strings (`capset_data_hex`,
 * `edid_hex`, `uuid_hex`).
 */
export function responseToJson(resp: Response): Record<string, unknown> {
  const head = { type: C.responseName(resp.type) ?? `0x${Number(resp.type).toString(16)}`, hdr: hdrJson(resp.hdr, resp.type) };
  const spec = responseSpec(resp.type);
  return spec ? { ...head, ...spec.json(resp) } : head;
}
