/**
 * Guest side of rutabaga's cross-domain protocol (what Sommelier / the Linux Wayland proxy speak
 * inside SUBMIT_3D), and just enough of the Wayland wire format to ask a compositor for its
 * globals. Layouts follow rutabaga_gfx's cross_domain_protocol.rs (all little-endian).
 */

/** CROSS_DOMAIN_CMD_* */
export const CROSS_DOMAIN_CMD = { INIT: 1, GET_IMAGE_REQUIREMENTS: 2, POLL: 3, SEND: 4, RECEIVE: 5 } as const;
/** CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND */
export const CHANNEL_TYPE_WAYLAND = 1;
/** Ring indexes of a cross-domain context: 0 query (answered at once), 1 channel. */
export const QUERY_RING = 0;
export const CHANNEL_RING = 1;
/** struct CrossDomainSendReceive without its trailing data: hdr + 2 u32 + 3 * 28 u32. */
export const SEND_RECEIVE_SIZE = 8 + 8 + 3 * 28 * 4;
/** DRM_FORMAT_XRGB8888 */
export const DRM_FORMAT_XRGB8888 = 0x34325258;

function header(dv: DataView, cmd: number, size: number): void {
  dv.setUint8(0, cmd);
  dv.setUint8(1, 0);
  dv.setUint16(2, size, true);
  dv.setUint32(4, 0, true);
}

/** CROSS_DOMAIN_CMD_INIT (the V1 layout, 20 bytes). channelType 0: no channel. */
export function initCmd(queryRingId: number, channelRingId: number, channelType: number): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  header(dv, CROSS_DOMAIN_CMD.INIT, 20);
  dv.setUint32(8, queryRingId, true);
  dv.setUint32(12, channelRingId, true);
  dv.setUint32(16, channelType, true);
  return b;
}

/** CROSS_DOMAIN_CMD_GET_IMAGE_REQUIREMENTS (24 bytes). */
export function imageRequirementsCmd(width: number, height: number, drmFormat: number, flags = 0): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  header(dv, CROSS_DOMAIN_CMD.GET_IMAGE_REQUIREMENTS, 24);
  dv.setUint32(8, width, true);
  dv.setUint32(12, height, true);
  dv.setUint32(16, drmFormat, true);
  dv.setUint32(20, flags, true);
  return b;
}

/** CROSS_DOMAIN_CMD_POLL: the guest waits for the channel (with a fence on ring 1). */
export function pollCmd(): Uint8Array {
  const b = new Uint8Array(8);
  header(new DataView(b.buffer), CROSS_DOMAIN_CMD.POLL, 8);
  return b;
}

/** CROSS_DOMAIN_CMD_SEND of `data` with no descriptors. */
export function sendCmd(data: Uint8Array): Uint8Array {
  const b = new Uint8Array(SEND_RECEIVE_SIZE + data.length);
  const dv = new DataView(b.buffer);
  header(dv, CROSS_DOMAIN_CMD.SEND, b.length);
  dv.setUint32(8, 0, true); // num_identifiers
  dv.setUint32(12, data.length, true); // opaque_data_size
  b.set(data, SEND_RECEIVE_SIZE);
  return b;
}

/** The image requirements rutabaga wrote into the query ring. */
export function readImageRequirements(ring: Uint8Array): { stride0: number; size: number; blobId: number; mapInfo: number } {
  const dv = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
  return { stride0: dv.getUint32(0, true), size: Number(dv.getBigUint64(40, true)), blobId: dv.getUint32(48, true), mapInfo: dv.getUint32(52, true) };
}

/** A CROSS_DOMAIN_CMD_RECEIVE in the channel ring: its payload, or null for another command. */
export function readReceive(ring: Uint8Array): Uint8Array | null {
  const dv = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
  if (dv.getUint8(0) !== CROSS_DOMAIN_CMD.RECEIVE) return null;
  const size = dv.getUint32(12, true);
  return ring.slice(SEND_RECEIVE_SIZE, SEND_RECEIVE_SIZE + size);
}

/** wl_display.get_registry(new id 2) then wl_display.sync(new id 3). */
export function waylandGetRegistryAndSync(): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(4, (12 << 16) | 1, true);
  dv.setUint32(8, 2, true);
  dv.setUint32(12, 1, true);
  dv.setUint32(16, (12 << 16) | 0, true);
  dv.setUint32(20, 3, true);
  return b;
}

/** One Wayland event. */
export interface WaylandEvent {
  objectId: number;
  opcode: number;
  args: Uint8Array;
}

/** Split a byte stream into Wayland messages (a partial tail is left out). */
export function waylandEvents(data: Uint8Array): WaylandEvent[] {
  const out: WaylandEvent[] = [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  while (at + 8 <= data.length) {
    const objectId = dv.getUint32(at, true);
    const word = dv.getUint32(at + 4, true);
    const size = word >>> 16;
    if (size < 8 || at + size > data.length) break;
    out.push({ objectId, opcode: word & 0xffff, args: data.subarray(at + 8, at + size) });
    at += size;
  }
  return out;
}

/** wl_registry.global events (object 2, opcode 0): interface names. */
export function globalInterfaces(events: WaylandEvent[]): string[] {
  return events
    .filter((e) => e.objectId === 2 && e.opcode === 0)
    .map((e) => {
      const dv = new DataView(e.args.buffer, e.args.byteOffset, e.args.byteLength);
      const len = dv.getUint32(4, true);
      return new TextDecoder().decode(e.args.subarray(8, 8 + len - 1));
    });
}
