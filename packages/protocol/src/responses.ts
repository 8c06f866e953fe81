/**
 * The response table: one {@link ResponseSpec} per response type (virtio-gpu §5.7.6.8), the
 * mirror of the command table. decode.ts, encode.ts and describe.ts are generic over it.
 */
import * as C from './constants.js';
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

/** A response without its header: what a device handler produces (ResponseBody of one type). */
type Body<T extends Response> = Omit<T, 'hdr'>;

/** One response type: its fixed struct and how it reads, writes and prints. */
export interface ResponseSpec<T extends Response = Response> {
  /** hdr.type: the VIRTIO_GPU_RESP_* value. */
  readonly type: T['type'];
  /** sizeof the C struct (RESP_OK_CAPSET's data comes on top). */
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

function none(): number {
  return 0;
}

/** OK_NODATA and every ERR_*: the header alone. */
function headerOnly(type: HdrOnlyResponseType): ResponseSpec<RespNoData> {
  return {
    type,
    size: CtrlHdr.SIZE,
    decode: (hdr) => ({ type, hdr }),
    extra: none,
    encode() {},
    json: () => ({}),
  };
}

/** RESP_OK_DISPLAY_INFO: decoding gives all 16 pmodes; encoding takes up to 16, the rest zero. */
const OK_DISPLAY_INFO: ResponseSpec<RespOkDisplayInfo> = {
  type: C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
  size: RespDisplayInfo.SIZE,
  decode(hdr, b, at) {
    const pmodes = new Array<DisplayOne>(C.VIRTIO_GPU_MAX_SCANOUTS);
    for (let i = 0; i < C.VIRTIO_GPU_MAX_SCANOUTS; i++) {
      const p = at + RespDisplayInfo.pmodes + i * 24;
      const r = newRect();
      fillRect(r, b, p);
      pmodes[i] = { r, enabled: u32(b, p + 16), flags: u32(b, p + 20) };
    }
    return { type: C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, hdr, pmodes };
  },
  extra: none,
  encode(resp, out, at) {
    const n = resp.pmodes.length;
    if (n > C.VIRTIO_GPU_MAX_SCANOUTS) throw new RangeError(`${n} pmodes, at most ${C.VIRTIO_GPU_MAX_SCANOUTS}`);
    out.fill(0, at + RespDisplayInfo.pmodes + n * 24, at + RespDisplayInfo.SIZE);
    for (let i = 0; i < n; i++) {
      const p = at + RespDisplayInfo.pmodes + i * 24;
      const m = resp.pmodes[i];
      writeRect(out, p, m.r);
      w32(out, p + 16, m.enabled);
      w32(out, p + 20, m.flags);
    }
  },
  json: (resp) => ({ pmodes: resp.pmodes.map((m) => ({ r: rectJson(m.r), enabled: m.enabled, flags: m.flags })) }),
};

const OK_CAPSET_INFO: ResponseSpec<RespOkCapsetInfo> = {
  type: C.VIRTIO_GPU_RESP_OK_CAPSET_INFO,
  size: RespCapsetInfo.SIZE,
  decode: (hdr, b, at) => ({
    type: C.VIRTIO_GPU_RESP_OK_CAPSET_INFO,
    hdr,
    capsetId: u32(b, at + RespCapsetInfo.capsetId),
    capsetMaxVersion: u32(b, at + RespCapsetInfo.capsetMaxVersion),
    capsetMaxSize: u32(b, at + RespCapsetInfo.capsetMaxSize),
    padding: u32(b, at + RespCapsetInfo.padding),
  }),
  extra: none,
  encode(resp, out, at) {
    w32(out, at + RespCapsetInfo.capsetId, resp.capsetId);
    w32(out, at + RespCapsetInfo.capsetMaxVersion, resp.capsetMaxVersion);
    w32(out, at + RespCapsetInfo.capsetMaxSize, resp.capsetMaxSize);
    w32(out, at + RespCapsetInfo.padding, resp.padding ?? 0);
  },
  json: (resp) => ({
    capset_id: resp.capsetId,
    capset_max_version: resp.capsetMaxVersion,
    capset_max_size: resp.capsetMaxSize,
    padding: resp.padding ?? 0,
  }),
};

/** RESP_OK_CAPSET: capset_data is everything after the header (decoded: a view). */
const OK_CAPSET: ResponseSpec<RespOkCapset> = {
  type: C.VIRTIO_GPU_RESP_OK_CAPSET,
  size: CtrlHdr.SIZE,
  decode: (hdr, b, at, len) => ({ type: C.VIRTIO_GPU_RESP_OK_CAPSET, hdr, data: b.subarray(at + CtrlHdr.SIZE, at + len) }),
  extra: (resp) => resp.data.length,
  encode(resp, out, at) {
    out.set(resp.data, at + CtrlHdr.SIZE);
  },
  json: (resp) => ({ capset_data_hex: hex(resp.data) }),
};

/** RESP_OK_EDID: `size` (at most 1024) bytes of edid count (decoded: a view of them). */
const OK_EDID: ResponseSpec<RespOkEdid> = {
  type: C.VIRTIO_GPU_RESP_OK_EDID,
  size: RespEdid.SIZE,
  decode(hdr, b, at) {
    const size = u32(b, at + RespEdid.size);
    if (size > C.EDID_MAX) return `edid size ${size} > ${C.EDID_MAX}`;
    const start = at + RespEdid.edid;
    return { type: C.VIRTIO_GPU_RESP_OK_EDID, hdr, size, padding: u32(b, at + RespEdid.padding), edid: b.subarray(start, start + size) };
  },
  extra: none,
  encode(resp, out, at) {
    if (resp.edid.length > C.EDID_MAX) throw new RangeError(`edid is ${resp.edid.length} bytes, at most ${C.EDID_MAX}`);
    w32(out, at + RespEdid.size, resp.size);
    w32(out, at + RespEdid.padding, resp.padding ?? 0);
    out.set(resp.edid, at + RespEdid.edid);
    out.fill(0, at + RespEdid.edid + resp.edid.length, at + RespEdid.SIZE);
  },
  json: (resp) => ({ size: resp.size, padding: resp.padding ?? 0, edid_hex: hex(resp.edid) }),
};

/** RESP_OK_RESOURCE_UUID: 16 bytes (decoded: a view). */
const OK_RESOURCE_UUID: ResponseSpec<RespOkResourceUuid> = {
  type: C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID,
  size: RespResourceUuid.SIZE,
  decode: (hdr, b, at) => ({ type: C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID, hdr, uuid: b.subarray(at + RespResourceUuid.uuid, at + RespResourceUuid.uuid + 16) }),
  extra: none,
  encode(resp, out, at) {
    if (resp.uuid.length !== 16) throw new RangeError(`uuid is ${resp.uuid.length} bytes, needs 16`);
    out.set(resp.uuid, at + RespResourceUuid.uuid);
  },
  json: (resp) => ({ uuid_hex: hex(resp.uuid) }),
};

const OK_MAP_INFO: ResponseSpec<RespOkMapInfo> = {
  type: C.VIRTIO_GPU_RESP_OK_MAP_INFO,
  size: RespMapInfo.SIZE,
  decode: (hdr, b, at) => ({
    type: C.VIRTIO_GPU_RESP_OK_MAP_INFO,
    hdr,
    mapInfo: u32(b, at + RespMapInfo.mapInfo),
    padding: u32(b, at + RespMapInfo.padding),
  }),
  extra: none,
  encode(resp, out, at) {
    w32(out, at + RespMapInfo.mapInfo, resp.mapInfo);
    w32(out, at + RespMapInfo.padding, resp.padding ?? 0);
  },
  json: (resp) => ({ map_info: resp.mapInfo, padding: resp.padding ?? 0 }),
};

/** Every response type, in enum order. */
export const RESPONSE_SPECS: readonly ResponseSpec[] = [
  headerOnly(C.VIRTIO_GPU_RESP_OK_NODATA),
  OK_DISPLAY_INFO,
  OK_CAPSET_INFO,
  OK_CAPSET,
  OK_EDID,
  OK_RESOURCE_UUID,
  OK_MAP_INFO,
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
