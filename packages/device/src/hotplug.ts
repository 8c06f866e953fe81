/**
 * Scanout modes from the host's side (virtio-gpu §5.7.6.8, "display"): the configured displays,
 * and hotplug or resize later. A change sets VIRTIO_GPU_EVENT_DISPLAY in the config space and
 * raises a config interrupt, so the driver asks GET_DISPLAY_INFO again.
 */
import type { DeviceLimits } from './limits.js';
import { type ScanoutConfig, scanoutFromConfig } from './scanouts.js';
import type { DeviceState } from './state.js';

/**
 * Throws RangeError unless every config's size is a whole number within the limits and an EDID
 * override is 1 to 8 whole 128-byte blocks (host configuration).
 */
export function checkScanoutConfigs(limits: DeviceLimits, configs: readonly ScanoutConfig[]): void {
  for (const c of configs) {
    if (!Number.isInteger(c.width) || !Number.isInteger(c.height) || c.width < 0 || c.height < 0 || c.width > limits.maxDimension || c.height > limits.maxDimension) {
      throw new RangeError(`VirtioGpuDevice: scanout size ${c.width}x${c.height}`);
    }
    const e = c.edid;
    if (e !== undefined && (!(e instanceof Uint8Array) || e.byteLength === 0 || e.byteLength > 1024 || e.byteLength % 128 !== 0)) {
      throw new RangeError('VirtioGpuDevice: an EDID override is 1 to 8 blocks of 128 bytes');
    }
  }
}

/** Entry i configures scanout i; missing entries are disconnected. The caller raises the event. */
export function setScanouts(s: DeviceState, configs: readonly ScanoutConfig[]): void {
  if (configs.length > s.scanouts.length) throw new RangeError(`setScanouts: ${configs.length} > num_scanouts ${s.scanouts.length}`);
  checkScanoutConfigs(s.limits, configs);
  for (let i = 0; i < s.scanouts.length; i++) {
    const next = scanoutFromConfig(configs[i]);
    const cur = s.scanouts[i];
    cur.width = next.width;
    cur.height = next.height;
    cur.enabled = next.enabled;
    cur.x = next.x;
    cur.y = next.y;
    cur.name = next.name;
    cur.edid = next.edid;
  }
  s.modesChanged();
}

/** One scanout's new mode (connected). The caller raises the event. */
export function resizeScanout(s: DeviceState, scanoutId: number, width: number, height: number): void {
  const sc = s.scanouts[scanoutId];
  if (!sc) throw new RangeError(`resizeScanout: scanout ${scanoutId}`);
  checkScanoutConfigs(s.limits, [{ width, height }]);
  sc.width = width;
  sc.height = height;
  sc.enabled = true;
  sc.edid = undefined; // an EDID override describes the old size
  s.modesChanged();
}
