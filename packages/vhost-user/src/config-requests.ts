/**
 * The device configuration space requests (VHOST_USER_PROTOCOL_F_CONFIG): GET_CONFIG reads
 * struct virtio_gpu_config, SET_CONFIG writes it, byte by byte through the device.
 */
import type { VirtioGpuDevice } from '@virtio-gpu/device';
import { Config } from '@virtio-gpu/protocol';
import type { Features } from './features.js';
import { fail } from './protocol-error.js';
import * as W from './wire.js';

/** A decoded GET_CONFIG or SET_CONFIG (wire.ts bounds `size` by the payload). */
type ConfigRequest = { offset: number; size: number; flags: number; data: Uint8Array };

/** VHOST_USER_GET_CONFIG: the reply to send. */
export function getConfig(device: VirtioGpuDevice, features: Features, req: ConfigRequest): Uint8Array {
  if (!features.has(W.VHOST_USER_PROTOCOL_F_CONFIG)) fail('GET_CONFIG without the CONFIG protocol feature');
  // Beyond the config space the protocol's error is an empty reply; the connection stays.
  if (req.offset + req.size > Config.SIZE) return W.encodeConfigReply(req.offset, null, req.flags);
  const data = new Uint8Array(req.size);
  for (let i = 0; i < req.size; i++) data[i] = device.readConfig(req.offset + i, 1);
  return W.encodeConfigReply(req.offset, data, req.flags);
}

/** VHOST_USER_SET_CONFIG. */
export function setConfig(device: VirtioGpuDevice, features: Features, req: ConfigRequest): void {
  if (!features.has(W.VHOST_USER_PROTOCOL_F_CONFIG)) fail('SET_CONFIG without the CONFIG protocol feature');
  if (req.offset + req.size > Config.SIZE) fail(`SET_CONFIG of ${req.size} bytes at ${req.offset}`);
  // Only events_clear is writable; read-only fields ignore writes (also for migration).
  for (let i = 0; i < req.size; i++) device.writeConfig(req.offset + i, 1, req.data[i]);
}
