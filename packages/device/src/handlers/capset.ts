/** GET_CAPSET_INFO and GET_CAPSET (virtio-gpu §5.7.6.8). */
import {
  VIRTIO_GPU_RESP_OK_CAPSET,
  VIRTIO_GPU_RESP_OK_CAPSET_INFO,
  type CmdGetCapset,
  type CmdGetCapsetInfo,
} from '@virtio-gpu/protocol';
import type { Outcome } from '../outcome.js';
import { errParameter } from '../result.js';
import type { DeviceState } from '../state.js';

/** GET_CAPSET_INFO: capset_index < num_capsets, else INVALID_PARAMETER. */
export function capsetInfo(s: DeviceState, cmd: CmdGetCapsetInfo): Outcome {
  const c = s.renderer.capabilities.capsets[cmd.capsetIndex];
  if (!c || cmd.capsetIndex >= s.renderer.capabilities.capsets.length) return errParameter(`GET_CAPSET_INFO: index ${cmd.capsetIndex}`);
  return { type: VIRTIO_GPU_RESP_OK_CAPSET_INFO, capsetId: c.id, capsetMaxVersion: c.maxVersion, capsetMaxSize: c.maxSize };
}

/** GET_CAPSET: a known capset id and a version <= its max version, else INVALID_PARAMETER. */
export function capset(s: DeviceState, cmd: CmdGetCapset): Outcome {
  const c = s.renderer.capabilities.capsets.find((x) => x.id === cmd.capsetId);
  if (!c) return errParameter(`GET_CAPSET: unknown capset ${cmd.capsetId}`);
  if (cmd.capsetVersion > c.maxVersion) return errParameter(`GET_CAPSET: version ${cmd.capsetVersion} > ${c.maxVersion}`);
  const r = s.renderer.getCapset(c.id, cmd.capsetVersion);
  if (!r.ok) return r;
  // The driver sized its buffer from capset_max_size: never answer more than that.
  const data = r.value.byteLength > c.maxSize ? r.value.subarray(0, c.maxSize) : r.value;
  return { type: VIRTIO_GPU_RESP_OK_CAPSET, data };
}
