/**
 * @virtio-gpu/display/node: the parts of the display that need Node: writing PNG files and the
 * live viewer's HTTP/WebSocket server. Everything else, including PNG encoding, is in the main
 * entry, which loads in a browser.
 */
export { writePng } from './write-png.js';
export { startViewer, type Viewer, type ViewerOptions } from './viewer.js';
