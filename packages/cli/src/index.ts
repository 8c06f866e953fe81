/**
 * virtio-gpu: the command line's building blocks, for embedders and tests: the subcommands as
 * functions. The in-process wiring the demo runs on is @virtio-gpu/device's createInProcessGpu.
 */
export { recordingIo, type CliIo } from './cli-io.js';
export { runDecode, parseHex, DECODE_USAGE } from './decode.js';
export { runDemo, parseScanouts, DEMO_USAGE } from './demo.js';
export { runServe, SERVE_USAGE } from './serve.js';
export { RENDERER_NAMES, loadRenderer, type RendererChoice, type RendererName } from './renderer-choice.js';
