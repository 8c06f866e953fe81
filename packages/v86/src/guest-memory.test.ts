import { describe, expect, it } from 'vitest';
import { V86GuestMemory } from './guest-memory.js';
import type { V86Cpu } from './v86-internals.js';

/**
 * The parts of v86's CPU the memory uses, over a real WebAssembly.Memory (growing one detaches
 * its buffer exactly as v86's does); RAM at offset 64 KiB like v86's allocator gives it.
 */
function cpuOver(ramBytes: number) {
  const wasm = new WebAssembly.Memory({ initial: (ramBytes >> 16) + 2 });
  const dirty: [number, number][] = [];
  const cpu = {
    wasm_memory: wasm,
    mem8: { byteOffset: 0x1_0000, length: ramBytes },
    memory_size: [ramBytes],
    jit_dirty_cache: (s: number, e: number) => void dirty.push([s, e]),
  } as unknown as V86Cpu;
  return { cpu, wasm, dirty };
}

describe('V86GuestMemory', () => {
  it('maps RAM except the legacy VGA window [0xA0000, 0xC0000)', () => {
    const { cpu } = cpuOver(4 << 20);
    const m = new V86GuestMemory(cpu);
    expect(m.isMapped(0, 0xa_0000)).toBe(true);
    expect(m.view(0xa_0000, 1)).toBeNull();
    expect(m.view(0xb_ffff, 1)).toBeNull();
    expect(m.isMapped(0xc_0000, (4 << 20) - 0xc_0000)).toBe(true);
    expect(m.view((4 << 20) - 1, 2)).toBeNull();
  });

  it('reads and writes v86\'s RAM bytes, and reports writes to the JIT', () => {
    const { cpu, wasm, dirty } = cpuOver(1 << 20);
    const m = new V86GuestMemory(cpu);
    new Uint8Array(wasm.buffer)[0x1_0000 + 0x2000] = 0x5a;
    expect(m.view(0x2000, 1)![0]).toBe(0x5a);
    expect(m.writeFrom(0x3000, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(new Uint8Array(wasm.buffer)[0x1_0000 + 0x3002]).toBe(3);
    expect(dirty).toEqual([[0x3000, 0x3003]]);
  });

  it('after the wasm memory grows, refresh() rebuilds the views over the new buffer', () => {
    const { cpu, wasm } = cpuOver(1 << 20);
    const m = new V86GuestMemory(cpu);
    const old = m.view(0x2000, 4)!;
    expect(m.refresh()).toBe(false);
    wasm.grow(1);
    expect(old.length).toBe(0); // detached, as every view of the old buffer
    expect(m.refresh()).toBe(true);
    new Uint8Array(wasm.buffer)[0x1_0000 + 0x2000] = 7;
    expect(m.view(0x2000, 4)![0]).toBe(7);
    expect(m.rebuilds).toBe(1);
  });
});
