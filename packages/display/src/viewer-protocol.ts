/**
 * The viewer's WebSocket protocol: JSON text messages for state, binary messages for pixels.
 *
 * Text (JSON):
 *   { type: 'hello', protocol: 1, scanouts: ScanoutJson[], cursor: CursorJson }  first message
 *   { type: 'scanout', scanoutId, width, height }   new size; width = height = 0: removed.
 *                                                   A full RECT of the scanout follows.
 *   { type: 'cursor', scanoutId, x, y, hotX, hotY, visible }
 *
 * Binary: a 28-byte little-endian header (`ViewerMsgHeader`) then width * height * 4 RGBA8 bytes.
 */

/** Version in the hello message; bump on any incompatible change. */
export const VIEWER_PROTOCOL_VERSION = 1;

/** Binary message header, little-endian. */
export const ViewerMsgHeader = {
  SIZE: 28,
  kind: 0, //      u8: ViewerMsgKind
  flags: 1, //     u8: ViewerMsgFlag bits
  reserved: 2, //  u16: 0
  scanoutId: 4, // u32
  seq: 8, //       u32: frame number on this connection, per scanout (RECT); 0 for CURSOR_IMAGE
  x: 12, //        u32: RECT: left edge; CURSOR_IMAGE: hotX
  y: 16, //        u32: RECT: top edge;  CURSOR_IMAGE: hotY
  width: 20, //    u32
  height: 24, //   u32
} as const;

/** Binary message kinds. */
export const ViewerMsgKind = {
  /** Pixels of a rect of a scanout. */
  RECT: 1,
  /** The 64x64 cursor image; the header's x/y carry the hot spot. */
  CURSOR_IMAGE: 2,
} as const;
export type ViewerMsgKind = (typeof ViewerMsgKind)[keyof typeof ViewerMsgKind];

/** Binary message flag bits. */
export const ViewerMsgFlag = {
  /** The rect covers the whole scanout (connect, resize, or refresh after backpressure). */
  FULL: 1,
  /** Last rect of a frame: the client may present and count one frame. */
  END_OF_FRAME: 2,
} as const;

/** One scanout in the hello message. */
export interface ScanoutJson {
  scanoutId: number;
  width: number;
  height: number;
}

/** Cursor state in text messages. */
export interface CursorJson {
  scanoutId: number;
  x: number;
  y: number;
  hotX: number;
  hotY: number;
  visible: boolean;
}

/** Every text message. */
export type ViewerTextMessage =
  | { type: 'hello'; protocol: number; scanouts: ScanoutJson[]; cursor: CursorJson }
  | ({ type: 'scanout' } & ScanoutJson)
  | ({ type: 'cursor' } & CursorJson);

/** A decoded binary message. `pixels` is a view into the message. */
export interface ViewerBinaryMessage {
  kind: number;
  flags: number;
  scanoutId: number;
  seq: number;
  x: number;
  y: number;
  width: number;
  height: number;
  pixels: Uint8Array;
}

/**
 * Builds a binary message whose pixels are copied from `src` (RGBA8, `srcStrideBytes` per row)
 * at (srcX, srcY). One allocation per message: the buffer handed to the socket.
 */
export function encodeBinaryMessage(
  h: { kind: number; flags: number; scanoutId: number; seq: number; x: number; y: number; width: number; height: number },
  src: Uint8Array,
  srcStrideBytes: number,
  srcX: number,
  srcY: number,
): Uint8Array {
  const rowBytes = h.width * 4;
  const out = new Uint8Array(ViewerMsgHeader.SIZE + rowBytes * h.height);
  const view = new DataView(out.buffer);
  view.setUint8(ViewerMsgHeader.kind, h.kind);
  view.setUint8(ViewerMsgHeader.flags, h.flags);
  view.setUint16(ViewerMsgHeader.reserved, 0, true);
  view.setUint32(ViewerMsgHeader.scanoutId, h.scanoutId, true);
  view.setUint32(ViewerMsgHeader.seq, h.seq >>> 0, true);
  view.setUint32(ViewerMsgHeader.x, h.x, true);
  view.setUint32(ViewerMsgHeader.y, h.y, true);
  view.setUint32(ViewerMsgHeader.width, h.width, true);
  view.setUint32(ViewerMsgHeader.height, h.height, true);
  if (srcStrideBytes === rowBytes && srcX === 0) {
    const start = srcY * srcStrideBytes;
    out.set(src.subarray(start, start + rowBytes * h.height), ViewerMsgHeader.SIZE);
  } else {
    for (let row = 0; row < h.height; row++) {
      const start = (srcY + row) * srcStrideBytes + srcX * 4;
      out.set(src.subarray(start, start + rowBytes), ViewerMsgHeader.SIZE + row * rowBytes);
    }
  }
  return out;
}

/** Decodes a binary message; null when it is short or its size disagrees with its header. */
export function decodeBinaryMessage(bytes: Uint8Array): ViewerBinaryMessage | null {
  if (bytes.byteLength < ViewerMsgHeader.SIZE) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(ViewerMsgHeader.width, true);
  const height = view.getUint32(ViewerMsgHeader.height, true);
  if (bytes.byteLength !== ViewerMsgHeader.SIZE + width * height * 4) return null;
  return {
    kind: view.getUint8(ViewerMsgHeader.kind),
    flags: view.getUint8(ViewerMsgHeader.flags),
    scanoutId: view.getUint32(ViewerMsgHeader.scanoutId, true),
    seq: view.getUint32(ViewerMsgHeader.seq, true),
    x: view.getUint32(ViewerMsgHeader.x, true),
    y: view.getUint32(ViewerMsgHeader.y, true),
    width,
    height,
    pixels: bytes.subarray(ViewerMsgHeader.SIZE),
  };
}
