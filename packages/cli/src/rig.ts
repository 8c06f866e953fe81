import { VirtioGpuDevice, type Renderer, type ScanoutConfig } from '@virtio-gpu/device';
import { Display } from '@virtio-gpu/display';
import { GpuDriver, GuestRam } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';

/** Options of {@link createInProcessGpu}. */
export interface InProcessGpuOptions {
  scanouts?: ScanoutConfig[];
  /** Renderer; default the device's pure-TypeScript 2D renderer. */
  renderer?: Renderer;
  /** Guest RAM in bytes. Default 256 MiB. */
  ramBytes?: number;
  /** Guest RAM as a SharedArrayBuffer (the rutabaga renderer needs memory that cannot move). */
  sharedRam?: boolean;
  /** Descriptors per queue. Default 256. */
  queueSize?: number;
}

/** A device, a display behind it and a guest driver in front of it, in one process. */
export interface InProcessGpu {
  ram: GuestRam;
  device: VirtioGpuDevice;
  display: Display;
  driver: GpuDriver;
}

/**
 * Wires the layers the way a VMM would: guest RAM, the device with the display as its scanout
 * sink, feature negotiation, and the driver's split rings handed to the device as its queues.
 * The driver's kicks call the device directly; the device's interrupts run the driver's handler.
 */
export function createInProcessGpu(opts: InProcessGpuOptions = {}): InProcessGpu {
  const ram = new GuestRam({ regions: [{ gpa: 0x4000_0000, bytes: opts.ramBytes ?? 256 << 20 }], shared: opts.sharedRam ?? false });
  const display = new Display();
  let driver: GpuDriver | null = null;
  const device = new VirtioGpuDevice({
    memory: ram.memory,
    scanouts: opts.scanouts ?? [{ width: 1024, height: 768 }],
    renderer: opts.renderer,
    sink: display,
    onInterrupt: () => driver?.interrupt(),
  });
  display.setSource(device);
  driver = new GpuDriver({ ram, transport: { notify: (q) => device.notify(q as 0 | 1) }, queueSize: opts.queueSize ?? 256 });
  device.negotiate(device.features);
  const [control, cursor] = [0, 1].map((i) => {
    const l = driver!.queueLayout(i);
    return new SplitQueue(ram.memory, l);
  });
  device.attachQueues(control!, cursor!);
  return { ram, device, display, driver };
}
