/**
 * @virtio-gpu/display: the host's screens. `Display` implements the device's `ScanoutSink`,
 * keeps RGBA8 surfaces per scanout and the cursor; `toPng`/`encodePng` snapshot them as PNG.
 * This entry uses no Node built-ins or globals and loads in a browser; writing files and the
 * viewer server are in `@virtio-gpu/display/node`.
 */
export type { CursorState, Rect, RgbaImage, ScanoutInfo, ScanoutSink, ScanoutSource } from './types.js';
export { CURSOR_SIZE, VIRTIO_GPU_MAX_SCANOUTS } from '@virtio-gpu/protocol';
export {
  Display,
  DEFAULT_MAX_SCANOUT_EDGE,
  DEFAULT_MAX_SURFACE_BYTES,
  toPng,
  type CursorEvent,
  type DisplayEvents,
  type DisplayOptions,
  type DisplayStats,
  type FrameEvent,
  type PngOptions,
  type ScanoutEvent,
  type Surface,
} from './display.js';
export { CURSOR_IMAGE_BYTES, blendCursor, type CursorInfo } from './cursor.js';
export { DamageAccumulator, DEFAULT_MAX_DAMAGE_RECTS } from './damage.js';
export { clipRect, isValidRect, unionRect } from './rect.js';
export { encodePng } from './png.js';
export { viewerPageHtml } from './viewer-page.js';
export {
  decodeBinaryMessage,
  encodeBinaryMessage,
  VIEWER_PROTOCOL_VERSION,
  ViewerMsgFlag,
  ViewerMsgHeader,
  ViewerMsgKind,
  type CursorJson,
  type ScanoutJson,
  type ViewerBinaryMessage,
  type ViewerTextMessage,
} from './viewer-protocol.js';
