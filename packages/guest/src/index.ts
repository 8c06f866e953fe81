/**
 * @virtio-gpu/guest — the driver side of virtio-gpu: guest RAM and pages, command builders and a
 * driver that submits commands and collects responses and fences, over split rings from
 * @virtio-gpu/virtqueue's DriverSplitRing. Tests, benchmarks and the demo drive the device
 * through it.
 */
export { Prng } from './prng';
export { PageAllocator } from './page-allocator';
export { GuestRam, type GuestRamOptions, type RamRegionSpec } from './guest-ram';
export { PreparedRing, type PreparedRingOptions } from './prepared-ring';
export { GpuDriver, type DriverTransport, type GpuDriverOptions, type Pending, type RawPending, type SendOptions } from './driver';
export { cmd, hdr, rect } from './commands';
export { DemoWorkload, cursorPath, type DemoWorkloadOptions } from './demo-workload';
export { drawText } from './font';
/** The queue indexes, declared by the protocol package; re-exported for drivers. */
export { CONTROLQ, CURSORQ } from '@virtio-gpu/protocol';
