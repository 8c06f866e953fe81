/**
 * Guest-physical RAM of a v86 instance as a {@link GuestMemory}.
 *
 * v86 keeps guest RAM inside its WebAssembly memory, which can grow (the Rust side allocates);
 * growing detaches the old ArrayBuffer and every view over it. `cpu.mem8` is a Proxy that makes a
 * new Uint8Array on each access, far too slow for a device. So this keeps its own views and
 * rebuilds them when `wasm_memory.buffer` is a different object ({@link refresh}); the host calls
 * refresh at each entry from v86 and rebuilds whatever else held views (queues, backing) when it
 * returns true.
 *
 * [0xA0000, 0xC0000) is left out: v86 maps the legacy VGA window there (MMIO), so RAM bytes at
 * those addresses are not what the guest sees. Everything else below memory_size is plain RAM.
 */
import { type GuestRegion, ReplaceableGuestMemory } from '@virtio-gpu/virtqueue';
import type { V86Cpu } from './v86-internals.js';

const VGA_WINDOW_START = 0xa_0000;
const VGA_WINDOW_END = 0xc_0000;

/** v86's RAM as guest memory, rebuilt when the wasm memory grows. */
export class V86GuestMemory extends ReplaceableGuestMemory {
  private buffer: ArrayBuffer | null = null;
  /** Guest RAM size in bytes. */
  readonly size: number;
  private readonly ramOffset: number;
  /** How many times the views were rebuilt after a growth. */
  rebuilds = 0;

  constructor(private readonly cpu: V86Cpu) {
    super();
    this.size = cpu.memory_size[0] >>> 0;
    // One Proxy access to learn where RAM starts in the wasm memory; fixed for the instance.
    this.ramOffset = cpu.mem8.byteOffset;
    this.build();
  }

  private build(): void {
    const buf = this.cpu.wasm_memory.buffer as ArrayBuffer;
    const ram = new Uint8Array(buf, this.ramOffset, this.size);
    const regions: GuestRegion[] = [{ gpa: 0, bytes: ram.subarray(0, Math.min(this.size, VGA_WINDOW_START)) }];
    if (this.size > VGA_WINDOW_END) regions.push({ gpa: VGA_WINDOW_END, bytes: ram.subarray(VGA_WINDOW_END) });
    this.replaceRegions(regions);
    this.buffer = buf;
  }

  /** Rebuilds the views if the wasm memory grew since; true when it did. */
  refresh(): boolean {
    if (this.cpu.wasm_memory.buffer === this.buffer) return false;
    this.build();
    this.rebuilds++;
    return true;
  }

  /** Copies into guest RAM and tells v86's JIT the range changed (it may hold code compiled from it). */
  override writeFrom(gpa: number, src: Uint8Array): boolean {
    if (!super.writeFrom(gpa, src)) return false;
    if (src.length > 0) this.cpu.jit_dirty_cache(gpa, gpa + src.length);
    return true;
  }
}
