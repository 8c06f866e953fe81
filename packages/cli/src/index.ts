/**
 * virtio-gpu: the command line's building blocks, for embedders and tests: the subcommands as
 * functions and the in-process rig (guest RAM, driver, device, display) the demo runs on.
 */
export { runDecode, parseHex, DECODE_USAGE, type CliIo } from './decode.js';
export { runDemo, parseScanouts, DEMO_USAGE } from './demo.js';
export { runServe, SERVE_USAGE } from './serve.js';
export { createInProcessGpu, type InProcessGpu, type InProcessGpuOptions } from './rig.js';
