/**
 * What the transport needs from a virtio device, and the adapter for our virtio-gpu device.
 * The transport owns status, features, queues and interrupts; the backend owns what is
 * device-specific: its features, its configuration and what it does with its queues.
 */
import type { DescriptorChain, Virtqueue } from '@virtio-gpu/virtqueue';

/** A virtio device as the transport drives it. */
export interface VirtioBackend {
  /** Virtio device id (§5): 16 for GPU. */
  readonly deviceId: number;
  readonly numQueues: number;
  /** Device-specific feature bits offered (the transport adds VERSION_1 and ring features). */
  readonly features: bigint;
  /** Bytes of device-specific configuration. */
  readonly configSize: number;
  /** FEATURES_OK accepted: the device-specific part of what the driver accepted. */
  negotiate(driverFeatures: bigint): void;
  readConfig(offset: number, size: number): number;
  writeConfig(offset: number, size: number, value: number): void;
  /** DRIVER_OK (or a queue enabled later): the device gets its queues, one per index. */
  activate(queues: Virtqueue[]): void;
  /** The driver notified queue `index`. */
  notify(index: number): void;
  /** Device reset (§2.4). */
  reset(): void;
  /** The device hit an error it cannot recover from without a reset (§2.1.2). */
  readonly needsReset: boolean;
}

/** The parts of `VirtioGpuDevice` the adapter uses (structural, so tests can pass a device). */
export interface GpuDeviceLike {
  readonly features: bigint;
  readonly needsReset: boolean;
  negotiate(driverFeatures: bigint): bigint;
  readConfig(offset: number, size: number): number;
  writeConfig(offset: number, size: number, value: number): void;
  attachQueues(control: Virtqueue, cursor: Virtqueue): void;
  notify(queueIndex: 0 | 1): void;
  reset(): void;
}

/** Virtio device id of a GPU (§5.7). */
export const VIRTIO_ID_GPU = 16;
/** sizeof(struct virtio_gpu_config) (§5.7.4). */
export const VIRTIO_GPU_CONFIG_SIZE = 16;

/** Wraps our virtio-gpu device: two queues (controlq, cursorq), 16 bytes of config. */
export function gpuBackend(device: GpuDeviceLike): VirtioBackend {
  return {
    deviceId: VIRTIO_ID_GPU,
    numQueues: 2,
    configSize: VIRTIO_GPU_CONFIG_SIZE,
    get features() {
      return device.features;
    },
    get needsReset() {
      return device.needsReset;
    },
    negotiate: (f) => void device.negotiate(f),
    readConfig: (o, s) => device.readConfig(o, s),
    writeConfig: (o, s, v) => device.writeConfig(o, s, v),
    activate: (qs) => device.attachQueues(qs[0], qs[1]),
    notify: (i) => {
      if (i === 0 || i === 1) device.notify(i);
    },
    reset: () => device.reset(),
  };
}

/** Chain lookup a restored device uses for commands that were waiting when the snapshot was taken. */
export type ChainLookup = (queueIndex: 0 | 1, head: number) => DescriptorChain | null;
