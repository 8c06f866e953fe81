/**
 * @virtio-gpu/protocol: the virtio-gpu wire protocol (virtio spec 1.3 §5.7, linux/virtio_gpu.h).
 * Constants under their C names, struct layouts, typed commands/responses, the command and
 * response tables, codecs, log helpers. No dependencies and no Node built-ins: it bundles for a
 * browser.
 */
export * from './constants.js';
export * from './layouts.js';
export * from './types.js';
export * from './decode.js';
export * from './encode.js';
export * from './describe.js';
export type { CommandSpec } from './command-spec.js';
export { COMMAND_SPECS, commandSpec } from './command-table.js';
export { RESPONSE_SPECS, responseSpec, type ResponseSpec } from './responses.js';
export { MAX_SAFE_U64, u64ToSafe } from './view.js';
export { responseHdr } from './wire.js';
