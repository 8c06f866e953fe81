/**
 * @virtio-gpu/display: the host's screens. `Display` implements the device's `ScanoutSink`,
 * keeps RGBA8 surfaces per scanout and the cursor; `toPng`/`writePng` snapshot them;
 * `startViewer` streams them to a browser.
 */
export type { CursorState, Rect, ScanoutInfo, ScanoutSink, ScanoutSource } from './types.js';
export {
  Display,
  VIRTIO_GPU_MAX_SCANOUTS,
  DEFAULT_MAX_SCANOUT_EDGE,
  DEFAULT_MAX_SURFACE_BYTES,
  type CursorEvent,
  type DisplayEvents,
  type DisplayOptions,
  type DisplayStats,
  type FrameEvent,
  type RgbaImage,
  type ScanoutEvent,
  type Surface,
} from './display.js';
export { CURSOR_IMAGE_BYTES, CURSOR_SIZE, blendCursor, type CursorInfo } from './cursor.js';
export { DamageAccumulator, DEFAULT_MAX_DAMAGE_RECTS } from './damage.js';
export { clipRect, isValidRect, unionRect } from './rect.js';
export { encodePng, toPng, writePng, type PngOptions } from './png.js';
export { startViewer, type Viewer, type ViewerOptions } from './viewer.js';
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
