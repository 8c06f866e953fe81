/** GET_DISPLAY_INFO and GET_EDID (virtio-gpu §5.7.6.8). */
import {
  VIRTIO_GPU_F_EDID,
  VIRTIO_GPU_MAX_SCANOUTS,
  VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
  VIRTIO_GPU_RESP_OK_EDID,
  type CmdGetEdid,
  type DisplayOne,
  encodeReply,
  responseSize,
} from '@virtio-gpu/protocol';
import { buildEdid } from '../edid.js';
import { NO_FENCE, type Outcome } from '../outcome.js';
import { errScanoutId, errUnspec } from '../result.js';
import type { DeviceState } from '../state.js';

/** The pmode of a scanout that does not exist; shared (the encoder only reads it). */
const NO_SCANOUT: DisplayOne = Object.freeze({ r: Object.freeze({ x: 0, y: 0, width: 0, height: 0 }), enabled: 0, flags: 0 });

/**
 * GET_DISPLAY_INFO: every scanout's mode; enabled when connected (host configuration). The reply
 * (frozen) and its encoding are cached in `s.displayInfo` until {@link DeviceState.modesChanged};
 * the responder copies the cached bytes when it answers with this very object.
 */
export function getDisplayInfo(s: DeviceState): Outcome {
  const cached = s.displayInfo;
  if (cached !== null) return cached.body;
  const pmodes: DisplayOne[] = [];
  for (let i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
    const sc = s.scanouts[i];
    if (!sc) pmodes.push(NO_SCANOUT);
    else pmodes.push(Object.freeze({ r: Object.freeze({ x: sc.x, y: sc.y, width: sc.width, height: sc.height }), enabled: sc.enabled ? 1 : 0, flags: 0 }));
  }
  const body = Object.freeze({ type: VIRTIO_GPU_RESP_OK_DISPLAY_INFO, pmodes: Object.freeze(pmodes) as DisplayOne[] });
  const bytes = new Uint8Array(responseSize(body));
  encodeReply(body, NO_FENCE, bytes, 0);
  s.displayInfo = { body, bytes };
  return body;
}

/** GET_EDID: needs VIRTIO_GPU_F_EDID (§5.7.6.8: "only if the feature ... negotiated"). */
export function getEdid(s: DeviceState, cmd: CmdGetEdid): Outcome {
  if (!s.has(VIRTIO_GPU_F_EDID)) return errUnspec('GET_EDID without VIRTIO_GPU_F_EDID');
  const sc = s.scanouts[cmd.scanout];
  if (cmd.scanout >= s.scanouts.length || !sc) return errScanoutId(`GET_EDID: scanout ${cmd.scanout}`);
  const edid = sc.edid ?? buildEdid({ width: sc.width || 1024, height: sc.height || 768, name: sc.name, serial: cmd.scanout });
  return { type: VIRTIO_GPU_RESP_OK_EDID, size: edid.byteLength, edid };
}
