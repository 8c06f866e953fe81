/**
 * @virtio-gpu/virtio-pci: the modern virtio-pci transport (virtio 1.2 §4.1) as a model any
 * emulator can host: it forwards configuration-space and BAR accesses, and gets INTx or MSI-X
 * interrupts back. Browser-safe, no Node built-ins.
 */
export { VirtioPciFunction, type PciHost, type VirtioPciOptions } from './transport.js';
export { gpuBackend, VIRTIO_ID_GPU, VIRTIO_GPU_CONFIG_SIZE, type ChainLookup, type GpuDeviceLike, type VirtioBackend } from './backend.js';
export { layoutBar, type BarKind, type BarLayout, type BarLayoutOptions, type Region } from './bar-layout.js';
export { PciConfigSpace, type PciIdentity } from './pci-config.js';
export { CommonRegisters, type CommonSnapshot } from './common-registers.js';
export { MsixTable, type MsiSink } from './msix.js';
export { DisabledQueue, QueueRegisters, queuePosition, restorePosition, type QueuePosition, type RingMode } from './queue-registers.js';
export type { TransportSnapshot } from './snapshot.js';
export * from './constants.js';
