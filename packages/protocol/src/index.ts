/**
 * @virtio-gpu/protocol: the virtio-gpu wire protocol (virtio spec 1.3 §5.7, linux/virtio_gpu.h).
 * Constants under their C names, struct layouts, typed commands/responses, codecs, log helpers.
 * No dependencies and no Node built-ins: it bundles for a browser.
 */
export * from './constants.js';
export * from './layouts.js';
export * from './types.js';
export * from './decode.js';
export * from './encode.js';
export * from './describe.js';
