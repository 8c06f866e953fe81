/**
 * @virtio-gpu/vhost-user: the virtio-gpu device as a vhost-user-gpu backend for QEMU
 * (`-device vhost-user-gpu-pci`): the vhost-user protocol over a UNIX socket, the frontend's guest
 * memory, kick/call eventfds, and QEMU's console through the vhost-user-gpu display channel.
 * Node only; the OS plumbing comes from `@virtio-gpu/native` (see `host.ts` for the seam).
 */
export { VhostUserBackend, NUM_QUEUES, DEFAULT_BUDGET, OFFERED_PROTOCOL_FEATURES, type BackendOptions } from './backend.js';
export { VhostUserServer, type ServerOptions } from './server.js';
export { QemuDisplay, DEFAULT_STRIP_BYTES, type DisplayStats, type QemuDisplayOptions } from './qemu-display.js';
export { DisplayChannel, GPU_REPLY_TIMEOUT_MS } from './display-channel.js';
export { VhostMemory, MAX_MEM_SLOTS } from './memory.js';
export { GatedQueue, peekType, type GatedQueueOptions } from './gated-queue.js';
export { MessageReader, MessageWriter, HEADER_SIZE, type Frame, type ReadResult } from './framing.js';
export type { FdSocket, Listener, MappedRegion, Received, VhostHost, Watch } from './host.js';
export { NativeHost } from './native-host.js';
export * from './wire.js';
export * from './gpu-wire.js';
