/**
 * The vhost-user wire format (QEMU docs/interop/vhost-user.rst, "Message Specification"): a
 * 12-byte header (request, flags, size) and a payload whose layout depends on the request.
 * Numbers are in the machine's byte order, which is little-endian on every host this runs on
 * (x86-64, aarch64); the tables below follow STYLE.md's "one table per spec struct".
 *
 * `decodeRequest` turns a frontend message into a typed request after checking everything the
 * payload alone can tell (exact sizes, counts, flag bits, 64-bit values a JS number holds exactly);
 * what needs state (ring indexes, region overlaps) is checked by the backend.
 */

/** Front-end message types (vhost-user.rst "Front-end message types"; QEMU's VhostUserRequest). */
export const VHOST_USER_GET_FEATURES = 1;
export const VHOST_USER_SET_FEATURES = 2;
export const VHOST_USER_SET_OWNER = 3;
export const VHOST_USER_RESET_OWNER = 4;
export const VHOST_USER_SET_MEM_TABLE = 5;
export const VHOST_USER_SET_LOG_BASE = 6;
export const VHOST_USER_SET_LOG_FD = 7;
export const VHOST_USER_SET_VRING_NUM = 8;
export const VHOST_USER_SET_VRING_ADDR = 9;
export const VHOST_USER_SET_VRING_BASE = 10;
export const VHOST_USER_GET_VRING_BASE = 11;
export const VHOST_USER_SET_VRING_KICK = 12;
export const VHOST_USER_SET_VRING_CALL = 13;
export const VHOST_USER_SET_VRING_ERR = 14;
export const VHOST_USER_GET_PROTOCOL_FEATURES = 15;
export const VHOST_USER_SET_PROTOCOL_FEATURES = 16;
export const VHOST_USER_GET_QUEUE_NUM = 17;
export const VHOST_USER_SET_VRING_ENABLE = 18;
export const VHOST_USER_SEND_RARP = 19;
export const VHOST_USER_NET_SET_MTU = 20;
export const VHOST_USER_SET_BACKEND_REQ_FD = 21;
export const VHOST_USER_IOTLB_MSG = 22;
export const VHOST_USER_SET_VRING_ENDIAN = 23;
export const VHOST_USER_GET_CONFIG = 24;
export const VHOST_USER_SET_CONFIG = 25;
export const VHOST_USER_CREATE_CRYPTO_SESSION = 26;
export const VHOST_USER_CLOSE_CRYPTO_SESSION = 27;
export const VHOST_USER_POSTCOPY_ADVISE = 28;
export const VHOST_USER_POSTCOPY_LISTEN = 29;
export const VHOST_USER_POSTCOPY_END = 30;
export const VHOST_USER_GET_INFLIGHT_FD = 31;
export const VHOST_USER_SET_INFLIGHT_FD = 32;
export const VHOST_USER_GPU_SET_SOCKET = 33;
export const VHOST_USER_RESET_DEVICE = 34;
export const VHOST_USER_VRING_KICK = 35;
export const VHOST_USER_GET_MAX_MEM_SLOTS = 36;
export const VHOST_USER_ADD_MEM_REG = 37;
export const VHOST_USER_REM_MEM_REG = 38;
export const VHOST_USER_SET_STATUS = 39;
export const VHOST_USER_GET_STATUS = 40;

/** Back-end message types (sent on the SET_BACKEND_REQ_FD channel). */
export const VHOST_USER_BACKEND_IOTLB_MSG = 1;
export const VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2;

/** Header flags: version in bits 0-1 (always 1), bit 2 reply, bit 3 need_reply (REPLY_ACK). */
export const VHOST_USER_VERSION = 0x1;
export const VHOST_USER_VERSION_MASK = 0x3;
export const VHOST_USER_REPLY_MASK = 0x4;
export const VHOST_USER_NEED_REPLY_MASK = 0x8;

/** Virtio feature bit 30 reused by vhost-user: the backend speaks protocol features. */
export const VHOST_USER_F_PROTOCOL_FEATURES = 30;
/** Virtio 1.x transport feature bit (virtio 1.3 §6). */
export const VIRTIO_F_VERSION_1 = 32;

/** Protocol feature bits (vhost-user.rst "Protocol features"). */
export const VHOST_USER_PROTOCOL_F_MQ = 0;
export const VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1;
export const VHOST_USER_PROTOCOL_F_RARP = 2;
export const VHOST_USER_PROTOCOL_F_REPLY_ACK = 3;
export const VHOST_USER_PROTOCOL_F_MTU = 4;
export const VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5;
export const VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6;
export const VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7;
export const VHOST_USER_PROTOCOL_F_PAGEFAULT = 8;
export const VHOST_USER_PROTOCOL_F_CONFIG = 9;
export const VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10;
export const VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11;
export const VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12;
export const VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13;
export const VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14;
export const VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15;
export const VHOST_USER_PROTOCOL_F_STATUS = 16;

/** SET_VRING_KICK/CALL/ERR u64: bits 0-7 the vring index, bit 8 "no fd in the ancillary data". */
export const VHOST_USER_VRING_IDX_MASK = 0xff;
export const VHOST_USER_VRING_NOFD_MASK = 0x100;

/** Regions a SET_MEM_TABLE may carry (QEMU's VHOST_MEMORY_BASELINE_NREGIONS). */
export const VHOST_MEMORY_BASELINE_NREGIONS = 8;
/** Largest config space GET_CONFIG/SET_CONFIG may move (QEMU's VHOST_USER_MAX_CONFIG_SIZE). */
export const VHOST_USER_MAX_CONFIG_SIZE = 256;
/** SET_CONFIG flags: 0 front-end write to a writable field, 1 live migration. */
export const VHOST_SET_CONFIG_TYPE_FRONTEND = 0;
export const VHOST_SET_CONFIG_TYPE_MIGRATION = 1;

/** The message header (VhostUserMsg's first three fields). */
export const VhostUserHeader = {
  SIZE: 12,
  request: 0, // u32
  flags: 4, // u32
  size: 8, // u32, payload bytes that follow
} as const;

/** "A vring state description" (struct vhost_vring_state, <linux/vhost_types.h>). */
export const VhostVringState = {
  SIZE: 8,
  index: 0, // u32
  num: 4, // u32
} as const;

/** "A vring address description" (struct vhost_vring_addr, <linux/vhost_types.h>). */
export const VhostVringAddr = {
  SIZE: 40,
  index: 0, // u32
  flags: 4, // u32, bit VHOST_VRING_F_LOG
  descUserAddr: 8, // u64, front-end user address of the descriptor table
  usedUserAddr: 16, // u64
  availUserAddr: 24, // u64
  logGuestAddr: 32, // u64
} as const;

/** VHOST_VRING_F_LOG: the ring's used area writes must be logged (migration; not offered). */
export const VHOST_VRING_F_LOG = 0;

/** One region of "Memory regions description" (VhostUserMemoryRegion). */
export const VhostUserMemoryRegion = {
  SIZE: 32,
  guestPhysAddr: 0, // u64
  memorySize: 8, // u64
  userspaceAddr: 16, // u64
  mmapOffset: 24, // u64, offset of the region in its fd
} as const;

/** "Memory regions description" (VhostUserMemory): up to 8 regions follow. */
export const VhostUserMemory = {
  SIZE: 8, // without regions
  nregions: 0, // u32
  padding: 4, // u32
  regions: 8, // VhostUserMemoryRegion[nregions]
} as const;

/** "Single memory region description" (VhostUserMemRegMsg) for ADD_MEM_REG/REM_MEM_REG. */
export const VhostUserMemRegMsg = {
  SIZE: 40,
  padding: 0, // u64
  region: 8, // VhostUserMemoryRegion
} as const;

/** "Virtio device config space" (VhostUserConfig): the config bytes follow the 12-byte head. */
export const VhostUserConfig = {
  SIZE: 12, // without the payload
  offset: 0, // u32
  size: 4, // u32
  flags: 8, // u32
  region: 12, // u8[size]
} as const;

/** A u64 payload. */
export const VhostUserU64 = { SIZE: 8, u64: 0 } as const;

/** Largest payload the backend reads: anything longer is refused before it is buffered. */
export const VHOST_USER_MAX_PAYLOAD = VhostUserConfig.SIZE + VHOST_USER_MAX_CONFIG_SIZE + VhostUserMemory.SIZE + VHOST_MEMORY_BASELINE_NREGIONS * VhostUserMemoryRegion.SIZE;

/** A decoded message header. */
export interface MessageHeader {
  request: number;
  flags: number;
  size: number;
}

/** One memory region as the frontend described it; all values exact (checked below 2^53). */
export interface MemoryRegionDesc {
  guestPhysAddr: number;
  memorySize: number;
  userspaceAddr: number;
  mmapOffset: number;
}

/** Requests without a payload, answered or acted on by type alone. */
type BareRequest =
  | typeof VHOST_USER_GET_FEATURES
  | typeof VHOST_USER_SET_OWNER
  | typeof VHOST_USER_RESET_OWNER
  | typeof VHOST_USER_GET_PROTOCOL_FEATURES
  | typeof VHOST_USER_GET_QUEUE_NUM
  | typeof VHOST_USER_SET_BACKEND_REQ_FD
  | typeof VHOST_USER_GPU_SET_SOCKET
  | typeof VHOST_USER_RESET_DEVICE
  | typeof VHOST_USER_GET_MAX_MEM_SLOTS;

/** A frontend request after decoding; `needReply` is the header's NEED_REPLY flag. */
export type VhostRequest = { needReply: boolean } & (
  | { request: BareRequest }
  | { request: typeof VHOST_USER_SET_FEATURES | typeof VHOST_USER_SET_PROTOCOL_FEATURES; value: bigint }
  | {
      request: typeof VHOST_USER_SET_VRING_NUM | typeof VHOST_USER_SET_VRING_BASE | typeof VHOST_USER_GET_VRING_BASE | typeof VHOST_USER_SET_VRING_ENABLE;
      index: number;
      num: number;
    }
  | { request: typeof VHOST_USER_SET_VRING_ADDR; index: number; flags: number; descUserAddr: number; usedUserAddr: number; availUserAddr: number }
  | { request: typeof VHOST_USER_SET_VRING_KICK | typeof VHOST_USER_SET_VRING_CALL | typeof VHOST_USER_SET_VRING_ERR; index: number; noFd: boolean }
  | { request: typeof VHOST_USER_SET_MEM_TABLE; regions: MemoryRegionDesc[] }
  | { request: typeof VHOST_USER_ADD_MEM_REG | typeof VHOST_USER_REM_MEM_REG; region: MemoryRegionDesc }
  | { request: typeof VHOST_USER_GET_CONFIG | typeof VHOST_USER_SET_CONFIG; offset: number; size: number; flags: number; data: Uint8Array }
);

/** Why a message could not be taken. Always a protocol error: the connection is closed. */
export interface WireError {
  error: string;
}

/** Decode a 12-byte header; null when fewer bytes are given. */
export function decodeHeader(b: Uint8Array, at = 0): MessageHeader | null {
  if (at < 0 || at + VhostUserHeader.SIZE > b.byteLength) return null;
  const v = new DataView(b.buffer, b.byteOffset + at, VhostUserHeader.SIZE);
  return { request: v.getUint32(VhostUserHeader.request, true), flags: v.getUint32(VhostUserHeader.flags, true), size: v.getUint32(VhostUserHeader.size, true) };
}

/**
 * Why a frontend request header is unacceptable before its payload is read (wrong version, the
 * reply bit on a request, a payload larger than any request has), or null.
 */
export function checkRequestHeader(h: MessageHeader): string | null {
  if ((h.flags & VHOST_USER_VERSION_MASK) !== VHOST_USER_VERSION) return `version ${h.flags & VHOST_USER_VERSION_MASK} (want ${VHOST_USER_VERSION})`;
  if ((h.flags & VHOST_USER_REPLY_MASK) !== 0) return 'reply flag set on a request';
  if ((h.flags & ~(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK | VHOST_USER_NEED_REPLY_MASK)) !== 0) return `unknown flags 0x${h.flags.toString(16)}`;
  if (h.size > VHOST_USER_MAX_PAYLOAD) return `payload of ${h.size} bytes (at most ${VHOST_USER_MAX_PAYLOAD})`;
  return null;
}

const TWO_32 = 0x1_0000_0000;

/** An le64 at `at` as an exact number, or -1 when it is 2^53 or more. */
function u64Number(v: DataView, at: number): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (hi >= 0x20_0000) return -1;
  return hi * TWO_32 + lo;
}

/** An le64 at `at` as a bigint (feature masks). */
function u64Big(v: DataView, at: number): bigint {
  return v.getBigUint64(at, true);
}

function payloadView(p: Uint8Array): DataView {
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

/** Decodes one region table entry at `at` (caller checked the bounds). */
function decodeRegion(v: DataView, at: number): MemoryRegionDesc | WireError {
  const guestPhysAddr = u64Number(v, at + VhostUserMemoryRegion.guestPhysAddr);
  const memorySize = u64Number(v, at + VhostUserMemoryRegion.memorySize);
  const userspaceAddr = u64Number(v, at + VhostUserMemoryRegion.userspaceAddr);
  const mmapOffset = u64Number(v, at + VhostUserMemoryRegion.mmapOffset);
  if (guestPhysAddr < 0 || memorySize < 0 || userspaceAddr < 0 || mmapOffset < 0) return { error: 'region value beyond 2^53' };
  if (memorySize === 0) return { error: 'empty region' };
  // Every end must stay exact too: lookups add offsets to these.
  const max = Number.MAX_SAFE_INTEGER;
  if (guestPhysAddr + memorySize > max || userspaceAddr + memorySize > max || mmapOffset + memorySize > max) return { error: 'region end beyond 2^53' };
  return { guestPhysAddr, memorySize, userspaceAddr, mmapOffset };
}

function sizeIs(h: MessageHeader, want: number): WireError | null {
  return h.size === want ? null : { error: `request ${h.request}: payload ${h.size} bytes, want ${want}` };
}

/**
 * Decode the frontend request `h` with payload `p` (exactly `h.size` bytes). Unknown and
 * unsupported requests are errors: the backend offered no feature that would make QEMU send them.
 */
export function decodeRequest(h: MessageHeader, p: Uint8Array): VhostRequest | WireError {
  if (p.byteLength !== h.size) return { error: `payload is ${p.byteLength} bytes, header says ${h.size}` };
  const needReply = (h.flags & VHOST_USER_NEED_REPLY_MASK) !== 0;
  const v = payloadView(p);
  switch (h.request) {
    case VHOST_USER_GET_FEATURES:
    case VHOST_USER_SET_OWNER:
    case VHOST_USER_RESET_OWNER:
    case VHOST_USER_GET_PROTOCOL_FEATURES:
    case VHOST_USER_GET_QUEUE_NUM:
    case VHOST_USER_SET_BACKEND_REQ_FD:
    case VHOST_USER_GPU_SET_SOCKET:
    case VHOST_USER_RESET_DEVICE:
    case VHOST_USER_GET_MAX_MEM_SLOTS:
      // The spec's payload is N/A (QEMU sends none); accept an empty one or one ignored u64, as
      // libvhost-user does not check, but nothing longer.
      if (h.size !== 0 && h.size !== VhostUserU64.SIZE) return { error: `request ${h.request}: payload ${h.size} bytes, want 0 or 8` };
      return { request: h.request, needReply };
    case VHOST_USER_SET_FEATURES:
    case VHOST_USER_SET_PROTOCOL_FEATURES: {
      const bad = sizeIs(h, VhostUserU64.SIZE);
      if (bad) return bad;
      return { request: h.request, needReply, value: u64Big(v, VhostUserU64.u64) };
    }
    case VHOST_USER_SET_VRING_NUM:
    case VHOST_USER_SET_VRING_BASE:
    case VHOST_USER_GET_VRING_BASE:
    case VHOST_USER_SET_VRING_ENABLE: {
      const bad = sizeIs(h, VhostVringState.SIZE);
      if (bad) return bad;
      return { request: h.request, needReply, index: v.getUint32(VhostVringState.index, true), num: v.getUint32(VhostVringState.num, true) };
    }
    case VHOST_USER_SET_VRING_ADDR: {
      const bad = sizeIs(h, VhostVringAddr.SIZE);
      if (bad) return bad;
      const flags = v.getUint32(VhostVringAddr.flags, true);
      if ((flags & ~(1 << VHOST_VRING_F_LOG)) !== 0) return { error: `SET_VRING_ADDR: unknown flags 0x${flags.toString(16)}` };
      if ((flags & (1 << VHOST_VRING_F_LOG)) !== 0) return { error: 'SET_VRING_ADDR: logging requested (VHOST_F_LOG_ALL was not offered)' };
      const descUserAddr = u64Number(v, VhostVringAddr.descUserAddr);
      const usedUserAddr = u64Number(v, VhostVringAddr.usedUserAddr);
      const availUserAddr = u64Number(v, VhostVringAddr.availUserAddr);
      if (descUserAddr < 0 || usedUserAddr < 0 || availUserAddr < 0) return { error: 'SET_VRING_ADDR: ring address beyond 2^53' };
      return { request: h.request, needReply, index: v.getUint32(VhostVringAddr.index, true), flags, descUserAddr, usedUserAddr, availUserAddr };
    }
    case VHOST_USER_SET_VRING_KICK:
    case VHOST_USER_SET_VRING_CALL:
    case VHOST_USER_SET_VRING_ERR: {
      const bad = sizeIs(h, VhostUserU64.SIZE);
      if (bad) return bad;
      const lo = v.getUint32(VhostUserU64.u64, true);
      const hi = v.getUint32(VhostUserU64.u64 + 4, true);
      if (hi !== 0 || (lo & ~(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)) !== 0) return { error: `request ${h.request}: reserved bits set in 0x${hi !== 0 ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16)}` };
      return { request: h.request, needReply, index: lo & VHOST_USER_VRING_IDX_MASK, noFd: (lo & VHOST_USER_VRING_NOFD_MASK) !== 0 };
    }
    case VHOST_USER_SET_MEM_TABLE: {
      if (h.size < VhostUserMemory.SIZE) return { error: `SET_MEM_TABLE: payload ${h.size} bytes` };
      const n = v.getUint32(VhostUserMemory.nregions, true);
      if (n < 1 || n > VHOST_MEMORY_BASELINE_NREGIONS) return { error: `SET_MEM_TABLE: ${n} regions (1..${VHOST_MEMORY_BASELINE_NREGIONS})` };
      // QEMU always sends the whole 8-entry array; a shorter payload must still hold n entries.
      const need = VhostUserMemory.SIZE + n * VhostUserMemoryRegion.SIZE;
      if (h.size < need || h.size > VhostUserMemory.SIZE + VHOST_MEMORY_BASELINE_NREGIONS * VhostUserMemoryRegion.SIZE) return { error: `SET_MEM_TABLE: payload ${h.size} bytes for ${n} regions` };
      const regions: MemoryRegionDesc[] = [];
      for (let i = 0; i < n; i++) {
        const r = decodeRegion(v, VhostUserMemory.regions + i * VhostUserMemoryRegion.SIZE);
        if ('error' in r) return { error: `SET_MEM_TABLE region ${i}: ${r.error}` };
        regions.push(r);
      }
      return { request: h.request, needReply, regions };
    }
    case VHOST_USER_ADD_MEM_REG:
    case VHOST_USER_REM_MEM_REG: {
      const bad = sizeIs(h, VhostUserMemRegMsg.SIZE);
      if (bad) return bad;
      const r = decodeRegion(v, VhostUserMemRegMsg.region);
      if ('error' in r) return { error: `${h.request === VHOST_USER_ADD_MEM_REG ? 'ADD' : 'REM'}_MEM_REG: ${r.error}` };
      return { request: h.request, needReply, region: r };
    }
    case VHOST_USER_GET_CONFIG:
    case VHOST_USER_SET_CONFIG: {
      if (h.size < VhostUserConfig.SIZE) return { error: `config request: payload ${h.size} bytes` };
      const offset = v.getUint32(VhostUserConfig.offset, true);
      const size = v.getUint32(VhostUserConfig.size, true);
      const flags = v.getUint32(VhostUserConfig.flags, true);
      if (size > VHOST_USER_MAX_CONFIG_SIZE || h.size !== VhostUserConfig.SIZE + size) return { error: `config request: size ${size} in a ${h.size}-byte payload` };
      if (flags !== VHOST_SET_CONFIG_TYPE_FRONTEND && flags !== VHOST_SET_CONFIG_TYPE_MIGRATION) return { error: `config request: flags ${flags}` };
      return { request: h.request, needReply, offset, size, flags, data: p.subarray(VhostUserConfig.region, VhostUserConfig.region + size) };
    }
    default:
      return { error: `unsupported request ${h.request}` };
  }
}

/** Number of fds a request must carry: exact, except for `optionalFd` requests (0 or 1). */
export function fdsExpected(req: VhostRequest): { min: number; max: number } {
  switch (req.request) {
    case VHOST_USER_SET_MEM_TABLE:
      return { min: req.regions.length, max: req.regions.length };
    case VHOST_USER_ADD_MEM_REG:
    case VHOST_USER_SET_BACKEND_REQ_FD:
    case VHOST_USER_GPU_SET_SOCKET:
      return { min: 1, max: 1 };
    case VHOST_USER_SET_VRING_KICK:
    case VHOST_USER_SET_VRING_CALL:
    case VHOST_USER_SET_VRING_ERR:
      return req.noFd ? { min: 0, max: 0 } : { min: 1, max: 1 };
    case VHOST_USER_REM_MEM_REG:
      // vhost-user.rst: "For compatibility with existing incorrect implementations, the back-end
      // MAY accept messages with one file descriptor" (and must close it).
      return { min: 0, max: 1 };
    default:
      return { min: 0, max: 0 };
  }
}

/** Encode a reply header plus `payloadSize` bytes for `request` into a new buffer; returns it. */
export function replyBuffer(request: number, payloadSize: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(VhostUserHeader.SIZE + payloadSize);
  const view = new DataView(bytes.buffer);
  view.setUint32(VhostUserHeader.request, request, true);
  view.setUint32(VhostUserHeader.flags, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, true);
  view.setUint32(VhostUserHeader.size, payloadSize, true);
  return { bytes, view };
}

/** A reply carrying one u64. */
export function encodeU64Reply(request: number, value: bigint): Uint8Array {
  const { bytes, view } = replyBuffer(request, VhostUserU64.SIZE);
  view.setBigUint64(VhostUserHeader.SIZE + VhostUserU64.u64, BigInt.asUintN(64, value), true);
  return bytes;
}

/** A reply carrying a vring state (GET_VRING_BASE). */
export function encodeVringStateReply(request: number, index: number, num: number): Uint8Array {
  const { bytes, view } = replyBuffer(request, VhostVringState.SIZE);
  view.setUint32(VhostUserHeader.SIZE + VhostVringState.index, index, true);
  view.setUint32(VhostUserHeader.SIZE + VhostVringState.num, num, true);
  return bytes;
}

/** GET_CONFIG's reply: the request's head with `data` (or a zero-size payload on error). */
export function encodeConfigReply(offset: number, data: Uint8Array | null, flags: number): Uint8Array {
  if (data === null) return replyBuffer(VHOST_USER_GET_CONFIG, 0).bytes;
  const { bytes, view } = replyBuffer(VHOST_USER_GET_CONFIG, VhostUserConfig.SIZE + data.byteLength);
  view.setUint32(VhostUserHeader.SIZE + VhostUserConfig.offset, offset, true);
  view.setUint32(VhostUserHeader.SIZE + VhostUserConfig.size, data.byteLength, true);
  view.setUint32(VhostUserHeader.SIZE + VhostUserConfig.flags, flags, true);
  bytes.set(data, VhostUserHeader.SIZE + VhostUserConfig.region);
  return bytes;
}

/** The single-region reply some requests have (ADD/REM_MEM_REG in postcopy; not used here). */
export function encodeMemRegReply(request: number, r: MemoryRegionDesc): Uint8Array {
  const { bytes, view } = replyBuffer(request, VhostUserMemRegMsg.SIZE);
  const at = VhostUserHeader.SIZE + VhostUserMemRegMsg.region;
  view.setBigUint64(at + VhostUserMemoryRegion.guestPhysAddr, BigInt(r.guestPhysAddr), true);
  view.setBigUint64(at + VhostUserMemoryRegion.memorySize, BigInt(r.memorySize), true);
  view.setBigUint64(at + VhostUserMemoryRegion.userspaceAddr, BigInt(r.userspaceAddr), true);
  view.setBigUint64(at + VhostUserMemoryRegion.mmapOffset, BigInt(r.mmapOffset), true);
  return bytes;
}

/** Names for logs. */
export const REQUEST_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: 'GET_FEATURES',
  2: 'SET_FEATURES',
  3: 'SET_OWNER',
  4: 'RESET_OWNER',
  5: 'SET_MEM_TABLE',
  6: 'SET_LOG_BASE',
  7: 'SET_LOG_FD',
  8: 'SET_VRING_NUM',
  9: 'SET_VRING_ADDR',
  10: 'SET_VRING_BASE',
  11: 'GET_VRING_BASE',
  12: 'SET_VRING_KICK',
  13: 'SET_VRING_CALL',
  14: 'SET_VRING_ERR',
  15: 'GET_PROTOCOL_FEATURES',
  16: 'SET_PROTOCOL_FEATURES',
  17: 'GET_QUEUE_NUM',
  18: 'SET_VRING_ENABLE',
  19: 'SEND_RARP',
  20: 'NET_SET_MTU',
  21: 'SET_BACKEND_REQ_FD',
  22: 'IOTLB_MSG',
  23: 'SET_VRING_ENDIAN',
  24: 'GET_CONFIG',
  25: 'SET_CONFIG',
  31: 'GET_INFLIGHT_FD',
  32: 'SET_INFLIGHT_FD',
  33: 'GPU_SET_SOCKET',
  34: 'RESET_DEVICE',
  35: 'VRING_KICK',
  36: 'GET_MAX_MEM_SLOTS',
  37: 'ADD_MEM_REG',
  38: 'REM_MEM_REG',
  39: 'SET_STATUS',
  40: 'GET_STATUS',
});

/** "GET_FEATURES" or "request 99". */
export function requestName(request: number): string {
  return REQUEST_NAMES[request] ?? `request ${request}`;
}
