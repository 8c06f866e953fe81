/** UPDATE_CURSOR and MOVE_CURSOR on the cursor queue (virtio-gpu §5.7.6.10). */
import { CURSOR_SIZE, VIRTIO_GPU_CMD_UPDATE_CURSOR, type CmdCursor } from '@virtio-gpu/protocol';
import { NODATA, type Outcome } from '../outcome.js';
import { errParameter, errResourceId, errScanoutId } from '../result.js';
import type { CursorState } from '../scanouts.js';
import type { DeviceState } from '../state.js';

/**
 * UPDATE_CURSOR: resource 0 hides the cursor; otherwise a live 64x64 2D/3D resource
 * (INVALID_RESOURCE_ID / INVALID_PARAMETER) whose image goes to the sink as 64x64 RGBA8.
 * MOVE_CURSOR: position only. Both check the scanout id (INVALID_SCANOUT_ID).
 */
export function cursor(s: DeviceState, cmd: CmdCursor): Outcome {
  if (cmd.pos.scanoutId >= s.scanouts.length) return errScanoutId(`cursor: scanout ${cmd.pos.scanoutId}`);
  let next: CursorState;
  if (cmd.type === VIRTIO_GPU_CMD_UPDATE_CURSOR) {
    let image: Uint8Array | undefined;
    if (cmd.resourceId !== 0) {
      const res = s.resources.get(cmd.resourceId);
      if (!res) return errResourceId(`UPDATE_CURSOR: no resource ${cmd.resourceId}`);
      if (res.kind === 'blob' || res.width !== CURSOR_SIZE || res.height !== CURSOR_SIZE) return errParameter('UPDATE_CURSOR: cursor must be 64x64');
      image = new Uint8Array(CURSOR_SIZE * CURSOR_SIZE * 4);
      if (!s.renderer.readback(res.id, { x: 0, y: 0, width: CURSOR_SIZE, height: CURSOR_SIZE }, image, CURSOR_SIZE * 4)) {
        return errParameter('UPDATE_CURSOR: cursor image unreadable');
      }
    }
    next = { scanoutId: cmd.pos.scanoutId, x: cmd.pos.x, y: cmd.pos.y, hotX: cmd.hotX, hotY: cmd.hotY, resourceId: cmd.resourceId };
    s.cursor = { ...next };
    if (image) next.image = image;
  } else {
    s.cursor = { ...s.cursor, scanoutId: cmd.pos.scanoutId, x: cmd.pos.x, y: cmd.pos.y };
    next = { ...s.cursor };
  }
  s.sink.cursorChanged(next);
  return NODATA;
}
