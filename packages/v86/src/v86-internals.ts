/**
 * The parts of v86 0.5.462's internals this package touches. v86's libv86.mjs is compiled by
 * Closure in SIMPLE mode, so property names survive while class names do not: these are
 * structural types of objects reached through `emulator.v86.cpu`, checked at attach time by
 * {@link internalsOf} so a different v86 fails with a clear message instead of misbehaving.
 */

/** One entry of v86's 64 Ki-port table (src/io.js). */
export interface V86PortEntry {
  read8: (port: number) => number;
  read16: (port: number) => number;
  read32: (port: number) => number;
  write8: (value: number) => void;
  write16: (value: number) => void;
  write32: (value: number) => void;
  device: unknown;
}

/** src/io.js IO. */
export interface V86Io {
  ports: V86PortEntry[];
  register_read(port: number, device: object, r8?: (port: number) => number, r16?: (port: number) => number, r32?: (port: number) => number): void;
  register_write(port: number, device: object, w8?: (v: number) => void, w16?: (v: number) => void, w32?: (v: number) => void): void;
}

/** A device as src/pci.js PCI.register_device takes it. */
export interface V86PciDevice {
  pci_id: number;
  pci_space: number[];
  pci_bars: ({ size: number } | undefined)[];
  name: string;
}

/** src/pci.js PCI. */
export interface V86Pci {
  devices: (V86PciDevice | undefined)[];
  device_spaces: (Int32Array | undefined)[];
  pci_addr: Uint8Array;
  pci_addr32: Int32Array;
  pci_response32: Int32Array;
  pci_status32: Int32Array;
  register_device(dev: V86PciDevice): Int32Array;
  raise_irq(pciId: number): void;
  lower_irq(pciId: number): void;
  pci_query(): void;
  pci_write8(address: number, value: number): void;
  pci_write16(address: number, value: number): void;
  pci_write32(address: number, value: number): void;
}

/** src/cpu.js CPU (the fields used here). */
export interface V86Cpu {
  wasm_memory: WebAssembly.Memory;
  /** A Proxy that builds a fresh Uint8Array over the wasm memory on every property access. */
  mem8: { byteOffset: number; length: number };
  memory_size: { 0: number };
  /** wasm export: invalidate compiled code for guest-physical [start, end). */
  jit_dirty_cache(start: number, end: number): void;
  io: V86Io;
  devices: { pci: V86Pci };
  get_state(): unknown[];
  set_state(state: unknown[]): void;
}

/** What `new V86(...)` returns (the parts used here). */
export interface V86Emulator {
  v86: { cpu: V86Cpu };
  add_listener(event: string, listener: (arg: unknown) => void): void;
  remove_listener(event: string, listener: (arg: unknown) => void): void;
}

/** The CPU of `emulator`, after checking every internal this package relies on exists. */
export function internalsOf(emulator: unknown): V86Cpu {
  const cpu = (emulator as { v86?: { cpu?: V86Cpu } })?.v86?.cpu;
  const need: [string, unknown][] = [
    ['emulator.v86.cpu', cpu],
    ['cpu.wasm_memory', cpu?.wasm_memory],
    ['cpu.mem8', cpu?.mem8],
    ['cpu.memory_size', cpu?.memory_size],
    ['cpu.jit_dirty_cache', typeof cpu?.jit_dirty_cache === 'function' ? cpu.jit_dirty_cache : undefined],
    ['cpu.io.register_read', cpu?.io?.register_read],
    ['cpu.devices.pci.register_device', cpu?.devices?.pci?.register_device],
    ['cpu.devices.pci.pci_query', cpu?.devices?.pci?.pci_query],
    ['cpu.get_state', cpu?.get_state],
  ];
  const missing = need.filter(([, v]) => v === undefined || v === null).map(([n]) => n);
  if (missing.length > 0) {
    throw new Error(`@virtio-gpu/v86: this v86 lacks ${missing.join(', ')} (built against v86 0.5.462; attach on "emulator-loaded")`);
  }
  return cpu!;
}
