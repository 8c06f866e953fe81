/**
 * @virtio-gpu/v86: our virtio-gpu device inside the v86 emulator (npm v86 0.5.462), in Node and
 * in browsers. Browser-safe: no Node built-ins.
 */
export { attachVirtioGpu, STATE_SLOT, type AttachOptions, type AttachStats, type V86VirtioGpu } from './attach.js';
export { V86GuestMemory } from './guest-memory.js';
export { JitReportingQueue, type DirtyRange } from './jit-queue.js';
export { CanvasScreen, type CanvasLike } from './canvas-screen.js';
export { decodeState, encodeState } from './state-codec.js';
export { internalsOf, type V86Cpu, type V86Emulator } from './v86-internals.js';
