/**
 * @virtio-gpu/v86/node: boot a Linux guest in v86 under Node with our device attached, with the
 * guest's serial console as text. Node-only (reads files); the CLI and the tests use it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ScanoutConfig, ScanoutSink } from '@virtio-gpu/device';
import { type AttachOptions, type V86VirtioGpu, attachVirtioGpu } from './attach.js';

/** Where Debian's seabios package puts the BIOS images v86 boots with. */
export const SEABIOS_DIR = '/usr/share/seabios';

/** Options of {@link bootLinux}. */
export interface BootOptions {
  kernel: string;
  initrd: string;
  /** Kernel command line. */
  append?: string;
  /** Guest RAM in MiB (default 128). */
  memoryMiB?: number;
  scanouts?: ScanoutConfig[];
  sink?: ScanoutSink;
  /** Attach our device (default true; false boots v86's own hardware only). */
  virtioGpu?: boolean;
  /** BIOS and VGA BIOS images (default Debian's seabios: bios.bin, vgabios-stdvga.bin). */
  bios?: string;
  vgaBios?: string;
  /** Each byte the guest writes to its first serial port. */
  onSerial?: (text: string) => void;
  attach?: Omit<AttachOptions, 'scanouts' | 'sink'>;
}

/** A running guest. */
export interface BootedLinux {
  /** The v86 instance (V86 from the v86 package). */
  readonly emulator: V86Like;
  /** Our device (null with virtioGpu: false). */
  readonly gpu: V86VirtioGpu | null;
  /** Serial console text so far. */
  serial(): string;
  /** Resolves with the console text once `pattern` appears, rejects after `timeoutMs`. */
  waitFor(pattern: string | RegExp, timeoutMs: number): Promise<string>;
  /** Stops and frees the emulator. */
  stop(): Promise<void>;
}

/** The V86 methods used here. */
export interface V86Like {
  add_listener(event: string, fn: (arg: never) => void): void;
  run(): Promise<void> | void;
  stop(): Promise<void> | void;
  destroy(): Promise<void> | void;
  save_state(): Promise<ArrayBuffer>;
  restore_state(state: ArrayBuffer): Promise<void>;
  serial0_send(text: string): void;
  v86: unknown;
}

const req = createRequire(import.meta.url);

/** Directory of the installed v86 package's build/ (libv86.mjs, v86.wasm). */
export function v86BuildDir(): string {
  return join(dirname(req.resolve('v86/package.json')), 'build');
}

/** Boots `kernel` + `initrd` in a new v86 with our virtio-gpu on its PCI bus. */
export async function bootLinux(o: BootOptions): Promise<BootedLinux> {
  const build = v86BuildDir();
  const { V86 } = (await import(join(build, 'libv86.mjs'))) as { V86: new (opts: object) => V86Like };
  const [kernel, initrd, bios, vgaBios] = await Promise.all([
    readFile(o.kernel),
    readFile(o.initrd),
    readFile(o.bios ?? join(SEABIOS_DIR, 'bios.bin')),
    readFile(o.vgaBios ?? join(SEABIOS_DIR, 'vgabios-stdvga.bin')),
  ]);
  const buf = (b: Buffer) => ({ buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
  const emulator = new V86({
    wasm_path: join(build, 'v86.wasm'),
    memory_size: (o.memoryMiB ?? 128) * 1024 * 1024,
    vga_memory_size: 16 * 1024 * 1024,
    bios: buf(bios),
    vga_bios: buf(vgaBios),
    bzimage: buf(kernel),
    initrd: buf(initrd),
    cmdline: o.append ?? 'console=ttyS0',
    autostart: false,
    disable_speaker: true,
    disable_keyboard: true,
    disable_mouse: true,
  });
  let text = '';
  const waiters = new Set<() => void>();
  emulator.add_listener('serial0-output-byte', (byte: number) => {
    const ch = String.fromCharCode(byte);
    text += ch;
    o.onSerial?.(ch);
    if (byte === 10) for (const w of [...waiters]) w();
  });
  let gpu: V86VirtioGpu | null = null;
  await new Promise<void>((resolve, reject) => {
    emulator.add_listener('emulator-loaded', () => {
      try {
        if (o.virtioGpu !== false) gpu = attachVirtioGpu(emulator, { ...o.attach, scanouts: o.scanouts, sink: o.sink });
        resolve();
      } catch (e) {
        reject(e);
      }
    });
  });
  await emulator.run();
  return {
    emulator,
    gpu,
    serial: () => text,
    waitFor(pattern, timeoutMs) {
      const hit = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      if (hit()) return Promise.resolve(text);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!hit()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(text);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}; last serial lines:\n${text.split('\n').slice(-15).join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async stop() {
      await emulator.stop();
      await emulator.destroy();
    },
  };
}

export { pageDir, servePage, type PageServer, type ServePageOptions } from './serve-page.js';
