/**
 * @virtio-gpu/virtqueue: guest memory and the device side of virtio split and packed
 * virtqueues (virtio 1.3 §2.7, §2.8). Browser-safe, no dependencies.
 */

export * from './guest-memory.js';
export { ReplaceableGuestMemory } from './replaceable-guest-memory.js';
export { DescriptorChain, Reader, Writer } from './chain.js';
export type { QueueError, QueueErrorKind } from './queue-error.js';
export type { Chain, ChainReader, ChainWriter, Virtqueue } from './virtqueue.js';
export { DriverSplitRing, type ChainBuffer, type DriverRam, type SplitRingLayout, type UsedElem } from './driver-split-ring.js';
export { SplitQueue, type SplitQueueConfig } from './split-queue.js';
export { PackedQueue, type PackedQueueConfig } from './packed-queue.js';
export * from './virtio-ring.js';
