/**
 * The response table: one entry per response type (virtio-gpu §5.7.6.8), the mirror of the
 * command table. decode.ts, encode.ts and describe.ts are generic over it.
 */
import * as C from './constants.js';
import { type Field, fields, fieldsJson, readFields, writeFields } from './fields.js';
import { CtrlHdr, RespCapsetInfo, RespDisplayInfo, RespEdid, RespMapInfo, RespResourceUuid, type DisplayOne } from './layouts.js';
import type {
  HdrOnlyResponseType,
  RespNoData,
  RespOkCapset,
  RespOkCapsetInfo,
  RespOkDisplayInfo,
  RespOkEdid,
  RespOkMapInfo,
  RespOkResourceUuid,
  Response,
} from './types.js';
import { u32, w32 } from './view.js';
import { fillRect, hex, newRect, rectJson, writeRect } from './wire.js';

/** A response without its header: what a device handler produces. */
type Body<T extends Response> = Omit<T, 'hdr'>;

/** The part of a response its field list does not describe (pmodes, capset data, EDID and UUID bytes). */
interface ResponseRest<T extends Response> {
  /** Reads it into `resp` (`len` >= size bytes from `at`); why it is inconsistent, or null. */
  fill(resp: T, b: Uint8Array, at: number, len: number): string | null;
  extra(resp: Body<T>): number;
  /** Writes it; throws RangeError when a value does not fit its C field. */
  encode(resp: Body<T>, out: Uint8Array, at: number): void;
  json(resp: Body<T>): Record<string, unknown>;
}

/** A response table entry as written. */
interface ResponseDef<T extends Response> {
  readonly type: T['type'];
  /** sizeof the C struct (RESP_OK_CAPSET's data comes on top). */
  readonly size: number;
  /** The struct's fields after the header, in C order. */
  readonly fields: readonly Field[];
  /** A zeroed response around `hdr` (the decoder fills it). */
  create(hdr: CtrlHdr): T;
  readonly rest?: ResponseRest<T>;
}

/** One response type: its fixed struct and how it reads, writes and prints. */
export interface ResponseSpec<T extends Response = Response> {
  /** hdr.type: the VIRTIO_GPU_RESP_* value. */
  readonly type: T['type'];
  readonly size: number;
  /** The response at `at` (`len` >= size bytes there) around `hdr`, or why it is inconsistent. */
  decode(hdr: CtrlHdr, b: Uint8Array, at: number, len: number): T | string;
  /** Bytes after the fixed struct that encoding writes. */
  extra(resp: Body<T>): number;
  /** Writes every field after the header; throws RangeError when a value does not fit its C field. */
  encode(resp: Body<T>, out: Uint8Array, at: number): void;
  /** Every field after the header under its C name, JSON-safe (bytes as hex). */
  json(resp: Body<T>): Record<string, unknown>;
}

function defineResponse<T extends Response>(def: ResponseDef<T>): ResponseSpec<T> {
  const { fields: list, rest } = def;
  return {
    type: def.type,
    size: def.size,
    decode(hdr, b, at, len) {
      const resp = def.create(hdr);
      readFields(resp, list, b, at);
      const why = rest ? rest.fill(resp, b, at, len) : null;
      return why ?? resp;
    },
    extra: (resp) => (rest ? rest.extra(resp) : 0),
    encode(resp, out, at) {
      writeFields(resp, list, out, at);
      rest?.encode(resp, out, at);
    },
    json: (resp) => (rest ? { ...fieldsJson(resp, list), ...rest.json(resp) } : fieldsJson(resp, list)),
  };
}

/** OK_NODATA and every ERR_*: the header alone. */
function headerOnly(type: HdrOnlyResponseType): ResponseSpec<RespNoData> {
  return defineResponse<RespNoData>({ type, size: CtrlHdr.SIZE, fields: [], create: (hdr) => ({ type, hdr }) });
}

/** A byte array after the header (capset data, EDID, UUID) as a JSON hex string. */
const bytesJson = (name: string, bytes: Uint8Array) => ({ [name]: hex(bytes) });

/** Every response type, in enum order. */
export const RESPONSE_SPECS: readonly ResponseSpec[] = [
  headerOnly(C.VIRTIO_GPU_RESP_OK_NODATA),
  // Decoding gives all 16 pmodes; encoding takes up to 16, the rest zero.
  defineResponse<RespOkDisplayInfo>({
    type: C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
    size: RespDisplayInfo.SIZE,
    fields: [],
    create: (hdr) => ({ type: C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, hdr, pmodes: [] }),
    rest: {
      fill(resp, b, at) {
        for (let i = 0; i < C.VIRTIO_GPU_MAX_SCANOUTS; i++) {
          const p = at + RespDisplayInfo.pmodes + i * 24;
          const r = newRect();
          fillRect(r, b, p);
          resp.pmodes.push({ r, enabled: u32(b, p + 16), flags: u32(b, p + 20) });
        }
        return null;
      },
      extra: () => 0,
      encode(resp, out, at) {
        const n = resp.pmodes.length;
        if (n > C.VIRTIO_GPU_MAX_SCANOUTS) throw new RangeError(`${n} pmodes, at most ${C.VIRTIO_GPU_MAX_SCANOUTS}`);
        out.fill(0, at + RespDisplayInfo.pmodes + n * 24, at + RespDisplayInfo.SIZE);
        resp.pmodes.forEach((m: DisplayOne, i) => {
          const p = at + RespDisplayInfo.pmodes + i * 24;
          writeRect(out, p, m.r);
          w32(out, p + 16, m.enabled);
          w32(out, p + 20, m.flags);
        });
      },
      json: (resp) => ({ pmodes: resp.pmodes.map((m) => ({ r: rectJson(m.r), enabled: m.enabled, flags: m.flags })) }),
    },
  }),
  defineResponse<RespOkCapsetInfo>({
    type: C.VIRTIO_GPU_RESP_OK_CAPSET_INFO,
    size: RespCapsetInfo.SIZE,
    fields: fields(RespCapsetInfo, { capsetId: 'u32', capsetMaxVersion: 'u32', capsetMaxSize: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_RESP_OK_CAPSET_INFO, hdr, capsetId: 0, capsetMaxVersion: 0, capsetMaxSize: 0, padding: 0 }),
  }),
  // capset_data is everything after the header (decoded: a view).
  defineResponse<RespOkCapset>({
    type: C.VIRTIO_GPU_RESP_OK_CAPSET,
    size: CtrlHdr.SIZE,
    fields: [],
    create: (hdr) => ({ type: C.VIRTIO_GPU_RESP_OK_CAPSET, hdr, data: new Uint8Array(0) }),
    rest: {
      fill(resp, b, at, len) {
        resp.data = b.subarray(at + CtrlHdr.SIZE, at + len);
        return null;
      },
      extra: (resp) => resp.data.length,
      encode: (resp, out, at) => out.set(resp.data, at + CtrlHdr.SIZE),
      json: (resp) => bytesJson('capset_data_hex', resp.data),
    },
  }),
  // `size` (at most 1024) bytes of edid count (decoded: a view of them).
  defineResponse<RespOkEdid>({
    type: C.VIRTIO_GPU_RESP_OK_EDID,
    size: RespEdid.SIZE,
    fields: fields(RespEdid, { size: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_RESP_OK_EDID, hdr, size: 0, padding: 0, edid: new Uint8Array(0) }),
    rest: {
      fill(resp, b, at) {
        if (resp.size > C.EDID_MAX) return `edid size ${resp.size} > ${C.EDID_MAX}`;
        resp.edid = b.subarray(at + RespEdid.edid, at + RespEdid.edid + resp.size);
        return null;
      },
      extra: () => 0,
      encode(resp, out, at) {
        if (resp.edid.length > C.EDID_MAX) throw new RangeError(`edid is ${resp.edid.length} bytes, at most ${C.EDID_MAX}`);
        out.set(resp.edid, at + RespEdid.edid);
        out.fill(0, at + RespEdid.edid + resp.edid.length, at + RespEdid.SIZE);
      },
      json: (resp) => bytesJson('edid_hex', resp.edid),
    },
  }),
  // 16 bytes (decoded: a view).
  defineResponse<RespOkResourceUuid>({
    type: C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID,
    size: RespResourceUuid.SIZE,
    fields: [],
    create: (hdr) => ({ type: C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID, hdr, uuid: new Uint8Array(0) }),
    rest: {
      fill(resp, b, at) {
        resp.uuid = b.subarray(at + RespResourceUuid.uuid, at + RespResourceUuid.uuid + 16);
        return null;
      },
      extra: () => 0,
      encode(resp, out, at) {
        if (resp.uuid.length !== 16) throw new RangeError(`uuid is ${resp.uuid.length} bytes, needs 16`);
        out.set(resp.uuid, at + RespResourceUuid.uuid);
      },
      json: (resp) => bytesJson('uuid_hex', resp.uuid),
    },
  }),
  defineResponse<RespOkMapInfo>({
    type: C.VIRTIO_GPU_RESP_OK_MAP_INFO,
    size: RespMapInfo.SIZE,
    fields: fields(RespMapInfo, { mapInfo: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_RESP_OK_MAP_INFO, hdr, mapInfo: 0, padding: 0 }),
  }),
  headerOnly(C.VIRTIO_GPU_RESP_ERR_UNSPEC),
  headerOnly(C.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY),
  headerOnly(C.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID),
  headerOnly(C.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID),
  headerOnly(C.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID),
  headerOnly(C.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER),
];

const BY_TYPE = new Map<number, ResponseSpec>(RESPONSE_SPECS.map((s) => [s.type, s]));

/** The spec of response type `type`, or undefined when it is not a response. */
export function responseSpec(type: number): ResponseSpec | undefined {
  return BY_TYPE.get(type);
}
