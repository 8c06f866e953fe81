/**
 * @virtio-gpu/guest — the driver side of virtio-gpu: guest RAM and pages, split rings, command
 * builders and a driver that submits commands and collects responses and fences. Tests,
 * benchmarks and the demo drive the device through it.
 */
export { Prng } from './prng';
export { PageAllocator } from './page-allocator';
export { GuestRam, type GuestRamOptions, type RamRegionSpec } from './guest-ram';
export { DriverSplitRing, type ChainBuffer, type SplitRingLayout, type UsedElem } from './split-ring';
export { PreparedRing, type PreparedRingOptions } from './prepared-ring';
export { GpuDriver, CONTROLQ, CURSORQ, type DriverTransport, type GpuDriverOptions, type Pending, type RawPending, type SendOptions } from './driver';
export { cmd, hdr, rect } from './commands';
export { DemoWorkload, cursorPath, type DemoWorkloadOptions } from './demo-workload';
export { drawText } from './font';
