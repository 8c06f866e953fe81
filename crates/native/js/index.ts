/**
 * @virtio-gpu/native: the napi-rs core. A rutabaga_gfx renderer for the device's Renderer seam
 * and the fd/memory plumbing JS cannot do (UNIX sockets with SCM_RIGHTS, eventfd, memfd, mmap,
 * readiness on the event loop). Nothing here loads the binary until it is used; `nativeStatus()`
 * says what this machine has and why not.
 */
export { BUILD_HINT, NativeError, loadBinding, platformPackageName } from './binding.js';
export { type NativeStatus, nativeStatus } from './support.js';
export {
  MAX_FDS_PER_MESSAGE,
  type RecvResult,
  acceptUnix,
  closeFd,
  connectUnix,
  dupFd,
  eventfdCreate,
  eventfdRead,
  eventfdWrite,
  isCloseOnExec,
  listenUnix,
  memfdCreate,
  openFdCount,
  openFds,
  recvWithFds,
  sendWithFds,
  setNonBlocking,
  socketPair,
} from './fd.js';
export { type FdEvents, type FdWatch, type WatchOptions, unwatchFd, watchFd } from './poller.js';
export { type MapOptions, MappedRegion, mapFd, mappingCount } from './mapping.js';
export { RutabagaRenderer, type RutabagaRendererOptions, type RutabagaSnapshot } from './rutabaga-renderer.js';
