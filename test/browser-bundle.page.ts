/**
 * The page side of browser-bundle.test.ts: bundled by esbuild for the browser (no Node
 * polyfills) and run in Chromium, and imported by the test in Node so both engines run the very
 * same code. It wires the layers from their public APIs, as a browser emulator would: the
 * device's in-process wiring (guest RAM, driver, split queues, device) with a Display as its
 * sink, and a canvas per scanout fed by the display's frame events.
 */
import { VIRTIO_GPU_MAX_SCANOUTS } from '@virtio-gpu/protocol';
import { DemoWorkload, type GpuDriver } from '@virtio-gpu/guest';
import { createInProcessGpu, type VirtioGpuDevice } from '@virtio-gpu/device';
import { Display, encodePng } from '@virtio-gpu/display';

/** A device, its display and a guest driver in one realm. */
export interface Rig {
  device: VirtioGpuDevice;
  display: Display;
  driver: GpuDriver;
}

/** The scanout sizes and frame count both engines run. */
export const SCANOUTS = [
  { width: 320, height: 240 },
  { width: 256, height: 192 },
];
export const FRAMES = 4;

/** Guest RAM, the device with a Display as its sink, negotiated features and the driver's rings as the device's queues. */
export function wireGpu(scanouts: { width: number; height: number }[]): Rig {
  if (scanouts.length > VIRTIO_GPU_MAX_SCANOUTS) throw new RangeError('too many scanouts');
  const display = new Display();
  const gpu = createInProcessGpu({ scanouts, sink: display, ramBytes: 32 << 20, queueSize: 64 });
  display.setSource(gpu.device);
  return { device: gpu.device, display, driver: gpu.driver };
}

/** Runs the demo workload's first `frames` frames; returns the scanout ids it drew. */
export async function runDemo(rig: Rig, frames: number): Promise<number[]> {
  const demo = new DemoWorkload(rig.driver, { maxScanouts: SCANOUTS.length });
  await demo.setup();
  for (let n = 0; n < frames; n++) await demo.frame(n);
  return demo.scanouts.map((s) => s.id);
}

/** What the page reports per scanout, as base64 so it crosses the DevTools protocol compactly. */
export interface PageScanout {
  id: number;
  width: number;
  height: number;
  /** getImageData of the scanout's canvas. */
  canvas: string;
  /** The device's own readScanout of the whole scanout. */
  readback: string;
  /** encodePng of the display's composite (cursor drawn), encoded in the page. */
  png: string;
}

/** What the page reports. */
export interface PageResult {
  scanouts: PageScanout[];
  frameEvents: number;
  /** Whether this page may compile WebAssembly (a Content-Security-Policy can forbid it). */
  wasm: boolean;
}

/** Runs in the page: the demo drawn to one canvas per scanout through the display's events. */
export async function runInPage(): Promise<PageResult> {
  const rig = wireGpu(SCANOUTS);
  const canvases = new Map<number, CanvasRenderingContext2D>();
  let frameEvents = 0;
  rig.display.on('scanout', ({ scanoutId, surface }) => {
    canvases.get(scanoutId)?.canvas.remove();
    canvases.delete(scanoutId);
    if (surface === null) return;
    const canvas = document.createElement('canvas');
    canvas.width = surface.width;
    canvas.height = surface.height;
    document.body.append(canvas);
    canvases.set(scanoutId, canvas.getContext('2d')!);
  });
  // Only the damaged rects are put: the canvas is right only if the display's damage is.
  rig.display.on('frame', ({ scanoutId, damage }) => {
    frameEvents++;
    const s = rig.display.surface(scanoutId)!;
    const image = new ImageData(new Uint8ClampedArray(s.data.buffer as ArrayBuffer, s.data.byteOffset, s.data.byteLength), s.width, s.height);
    for (const r of damage) canvases.get(scanoutId)!.putImageData(image, 0, 0, r.x, r.y, r.width, r.height);
  });
  const ids = await runDemo(rig, FRAMES);
  const scanouts = ids.map((id) => {
    const s = rig.display.surface(id)!;
    const canvas = canvases.get(id)!.getImageData(0, 0, s.width, s.height).data;
    const readback = new Uint8Array(s.width * s.height * 4);
    if (!rig.device.readScanout(id, { x: 0, y: 0, width: s.width, height: s.height }, readback, s.width * 4)) throw new Error(`readScanout ${id} failed`);
    return { id, width: s.width, height: s.height, canvas: toBase64(canvas), readback: toBase64(readback), png: toBase64(encodePng(rig.display.composite(id)!)) };
  });
  return { scanouts, frameEvents, wasm: wasmAllowed() };
}

function wasmAllowed(): boolean {
  try {
    new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    return true;
  } catch {
    return false;
  }
}

function toBase64(bytes: Uint8Array | Uint8ClampedArray): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
