import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as W from './wire.js';

const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/** A header + payload as decodeRequest receives them. */
function msg(request: number, payload: Uint8Array = new Uint8Array(0), flags = W.VHOST_USER_VERSION) {
  return { h: { request, flags, size: payload.byteLength }, p: payload };
}
function decode(request: number, payload?: Uint8Array, flags?: number) {
  const m = msg(request, payload, flags);
  return W.decodeRequest(m.h, m.p);
}
function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}
function region(gpa: bigint, size: bigint, uva: bigint, off: bigint): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, gpa, true);
  v.setBigUint64(8, size, true);
  v.setBigUint64(16, uva, true);
  v.setBigUint64(24, off, true);
  return b;
}
function memTable(regions: Uint8Array[], slots = 8): Uint8Array {
  const b = new Uint8Array(8 + slots * 32);
  new DataView(b.buffer).setUint32(0, regions.length, true);
  regions.forEach((r, i) => b.set(r, 8 + i * 32));
  return b;
}
const err = (r: W.VhostRequest | W.WireError) => ('error' in r ? r.error : null);

describe('message header', () => {
  it('accepts version 1 with or without NEED_REPLY', () => {
    expect(W.checkRequestHeader({ request: 1, flags: 1, size: 0 })).toBeNull();
    expect(W.checkRequestHeader({ request: 1, flags: 1 | W.VHOST_USER_NEED_REPLY_MASK, size: 8 })).toBeNull();
  });
  it.each([
    ['version 0', 0],
    ['version 2', 2],
    ['reply flag on a request', 1 | W.VHOST_USER_REPLY_MASK],
    ['unknown flag bits', 1 | 0x100],
  ])('%s -> refused', (_n, flags) => {
    expect(W.checkRequestHeader({ request: 1, flags, size: 0 })).not.toBeNull();
  });
  it('a payload larger than any request -> refused before it is read', () => {
    expect(W.checkRequestHeader({ request: 5, flags: 1, size: W.VHOST_USER_MAX_PAYLOAD + 1 })).toMatch(/payload/);
    expect(W.checkRequestHeader({ request: 5, flags: 1, size: 0xffff_ffff })).toMatch(/payload/);
  });
});

describe('decodeRequest', () => {
  it('bare requests: empty payload (or one ignored u64), nothing else', () => {
    expect(decode(W.VHOST_USER_GET_FEATURES)).toEqual({ request: W.VHOST_USER_GET_FEATURES, needReply: false });
    expect(err(decode(W.VHOST_USER_GET_FEATURES, new Uint8Array(8)))).toBeNull();
    expect(err(decode(W.VHOST_USER_GET_FEATURES, new Uint8Array(4)))).toMatch(/want 0 or 8/);
  });

  it('SET_FEATURES: the u64 as a bigint; NEED_REPLY reported', () => {
    const r = decode(W.VHOST_USER_SET_FEATURES, u64(0x1_7000_0006n), 1 | W.VHOST_USER_NEED_REPLY_MASK);
    expect(r).toEqual({ request: W.VHOST_USER_SET_FEATURES, needReply: true, value: 0x1_7000_0006n });
    expect(err(decode(W.VHOST_USER_SET_FEATURES, new Uint8Array(7)))).toMatch(/want 8/);
  });

  it('vring state', () => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, 1, true);
    new DataView(b.buffer).setUint32(4, 256, true);
    expect(decode(W.VHOST_USER_SET_VRING_NUM, b)).toMatchObject({ index: 1, num: 256 });
    expect(err(decode(W.VHOST_USER_SET_VRING_NUM, new Uint8Array(12)))).not.toBeNull();
  });

  it('SET_VRING_ADDR: user addresses; logging refused; addresses beyond 2^53 refused', () => {
    const b = new Uint8Array(40);
    const v = new DataView(b.buffer);
    v.setBigUint64(8, 0x7f00_0000_1000n, true);
    v.setBigUint64(16, 0x7f00_0000_2000n, true);
    v.setBigUint64(24, 0x7f00_0000_3000n, true);
    expect(decode(W.VHOST_USER_SET_VRING_ADDR, b)).toMatchObject({ descUserAddr: 0x7f00_0000_1000, usedUserAddr: 0x7f00_0000_2000, availUserAddr: 0x7f00_0000_3000 });
    v.setUint32(4, 1 << W.VHOST_VRING_F_LOG, true);
    expect(err(decode(W.VHOST_USER_SET_VRING_ADDR, b))).toMatch(/logging/);
    v.setUint32(4, 2, true);
    expect(err(decode(W.VHOST_USER_SET_VRING_ADDR, b))).toMatch(/unknown flags/);
    v.setUint32(4, 0, true);
    v.setBigUint64(8, 1n << 53n, true);
    expect(err(decode(W.VHOST_USER_SET_VRING_ADDR, b))).toMatch(/2\^53/);
  });

  it('kick/call/err: index and the no-fd bit; reserved bits refused', () => {
    expect(decode(W.VHOST_USER_SET_VRING_KICK, u64(1n))).toMatchObject({ index: 1, noFd: false });
    expect(decode(W.VHOST_USER_SET_VRING_CALL, u64(0x100n))).toMatchObject({ index: 0, noFd: true });
    expect(err(decode(W.VHOST_USER_SET_VRING_ERR, u64(0x200n)))).toMatch(/reserved/);
    expect(err(decode(W.VHOST_USER_SET_VRING_ERR, u64(1n << 40n)))).toMatch(/reserved/);
  });

  it('SET_MEM_TABLE: 1..8 regions, each non-empty with exact ends', () => {
    const ok = decode(W.VHOST_USER_SET_MEM_TABLE, memTable([region(0n, 0x1000_0000n, 0x7f00_0000_0000n, 0n), region(0x1_0000_0000n, 0x1000n, 0x7f10_0000_0000n, 0x1000_0000n)]));
    expect(ok).toMatchObject({ regions: [{ guestPhysAddr: 0, memorySize: 0x1000_0000 }, { guestPhysAddr: 0x1_0000_0000, mmapOffset: 0x1000_0000 }] });
    expect(err(decode(W.VHOST_USER_SET_MEM_TABLE, memTable([])))).toMatch(/0 regions/);
    const nine = new Uint8Array(8 + 9 * 32);
    new DataView(nine.buffer).setUint32(0, 9, true);
    expect(err(decode(W.VHOST_USER_SET_MEM_TABLE, nine))).not.toBeNull();
    expect(err(decode(W.VHOST_USER_SET_MEM_TABLE, memTable([region(0n, 0n, 0n, 0n)])))).toMatch(/empty region/);
    expect(err(decode(W.VHOST_USER_SET_MEM_TABLE, memTable([region((1n << 53n) - 1n, 2n, 0n, 0n)])))).toMatch(/2\^53/);
    expect(err(decode(W.VHOST_USER_SET_MEM_TABLE, memTable([region(0n, 0x1000n, 0xffff_ffff_ffff_f000n, 0n)])))).toMatch(/2\^53/);
    // A count larger than the payload holds.
    const short = memTable([region(0n, 0x1000n, 0x1000n, 0n)], 1);
    new DataView(short.buffer).setUint32(0, 2, true);
    expect(err(decode(W.VHOST_USER_SET_MEM_TABLE, short))).toMatch(/payload/);
  });

  it('ADD_MEM_REG / REM_MEM_REG: the single-region form, exactly 40 bytes', () => {
    const p = new Uint8Array(40);
    p.set(region(0x10_0000n, 0x20_0000n, 0x7f00_0010_0000n, 0n), 8);
    expect(decode(W.VHOST_USER_ADD_MEM_REG, p)).toMatchObject({ region: { guestPhysAddr: 0x10_0000, memorySize: 0x20_0000 } });
    expect(err(decode(W.VHOST_USER_REM_MEM_REG, p.subarray(0, 32)))).toMatch(/want 40/);
  });

  it('GET_CONFIG / SET_CONFIG: size must match the payload, at most 256', () => {
    const p = new Uint8Array(12 + 16);
    new DataView(p.buffer).setUint32(4, 16, true);
    expect(decode(W.VHOST_USER_GET_CONFIG, p)).toMatchObject({ offset: 0, size: 16, flags: 0 });
    new DataView(p.buffer).setUint32(4, 17, true);
    expect(err(decode(W.VHOST_USER_GET_CONFIG, p))).toMatch(/size 17/);
    new DataView(p.buffer).setUint32(4, 16, true);
    new DataView(p.buffer).setUint32(8, 7, true);
    expect(err(decode(W.VHOST_USER_SET_CONFIG, p))).toMatch(/flags 7/);
  });

  it.each([W.VHOST_USER_SET_LOG_BASE, W.VHOST_USER_SET_INFLIGHT_FD, W.VHOST_USER_POSTCOPY_ADVISE, W.VHOST_USER_VRING_KICK, 99, 0])('request %d (never enabled by our offer) -> unsupported', (r) => {
    expect(err(decode(r, new Uint8Array(8)))).toMatch(/unsupported/);
  });

  it('payload length disagreeing with the header -> error', () => {
    expect(err(W.decodeRequest({ request: 1, flags: 1, size: 8 }, new Uint8Array(0)))).toMatch(/header says/);
  });

  it('fds expected per request', () => {
    const t = decode(W.VHOST_USER_SET_MEM_TABLE, memTable([region(0n, 0x1000n, 0x1000n, 0n), region(0x1000n, 0x1000n, 0x2000n, 0n)]));
    if ('error' in t) throw new Error(t.error);
    expect(W.fdsExpected(t)).toEqual({ min: 2, max: 2 });
    const k = decode(W.VHOST_USER_SET_VRING_KICK, u64(0x100n));
    if ('error' in k) throw new Error(k.error);
    expect(W.fdsExpected(k)).toEqual({ min: 0, max: 0 });
    const rem = decode(W.VHOST_USER_REM_MEM_REG, (() => { const p = new Uint8Array(40); p.set(region(0n, 0x1000n, 0x1000n, 0n), 8); return p; })());
    if ('error' in rem) throw new Error(rem.error);
    expect(W.fdsExpected(rem)).toEqual({ min: 0, max: 1 });
  });

  it('random headers and payloads never throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 45 }), fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 300 }), (request, flags, payload) => {
        const h = { request, flags, size: payload.byteLength };
        W.checkRequestHeader(h);
        const r = W.decodeRequest(h, payload);
        if (!('error' in r)) W.fdsExpected(r);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('replies', () => {
  it('u64 reply: version 1 with the reply flag, 8-byte payload', () => {
    const b = W.encodeU64Reply(W.VHOST_USER_GET_FEATURES, 0x1_4000_0000n);
    const v = new DataView(b.buffer);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true)]).toEqual([1, 5, 8]);
    expect(v.getBigUint64(12, true)).toBe(0x1_4000_0000n);
  });
  it('GET_CONFIG error reply has an empty payload', () => {
    expect(W.encodeConfigReply(0, null, 0).byteLength).toBe(12);
  });
});

describe('layouts', () => {
  it('tables follow vhost-user.rst (sizes and offsets)', () => {
    expect([W.VhostUserHeader.SIZE, W.VhostVringState.SIZE, W.VhostVringAddr.SIZE, W.VhostUserMemoryRegion.SIZE, W.VhostUserMemRegMsg.SIZE, W.VhostUserConfig.SIZE]).toEqual([12, 8, 40, 32, 40, 12]);
    expect(W.VhostUserMemory.regions).toBe(8);
    expect(W.VHOST_USER_MAX_PAYLOAD).toBe(12 + 256 + 8 + 8 * 32);
  });

  it('vring state and address agree with <linux/vhost_types.h> (compiled with cc)', (ctx) => {
    let cc = true;
    try {
      execFileSync('sh', ['-c', 'command -v cc && test -f /usr/include/linux/vhost_types.h'], { stdio: 'ignore' });
    } catch {
      cc = false;
    }
    if (!cc) {
      if (IN_CI) throw new Error('cc and linux-libc-dev are needed (.ci/run installs them)');
      ctx.skip();
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'vhost-layout-'));
    try {
      writeFileSync(
        join(dir, 'l.c'),
        `#include <stdio.h>\n#include <stddef.h>\n#include <linux/vhost_types.h>\nint main(void){printf("%zu %zu %zu %zu %zu %zu %zu %zu %zu\\n",sizeof(struct vhost_vring_state),offsetof(struct vhost_vring_state,num),sizeof(struct vhost_vring_addr),offsetof(struct vhost_vring_addr,flags),offsetof(struct vhost_vring_addr,desc_user_addr),offsetof(struct vhost_vring_addr,used_user_addr),offsetof(struct vhost_vring_addr,avail_user_addr),offsetof(struct vhost_vring_addr,log_guest_addr),sizeof(struct vhost_memory_region));return 0;}\n`,
      );
      execFileSync('cc', ['-o', join(dir, 'l'), join(dir, 'l.c')]);
      const got = execFileSync(join(dir, 'l')).toString().trim().split(' ').map(Number);
      expect(got).toEqual([
        W.VhostVringState.SIZE,
        W.VhostVringState.num,
        W.VhostVringAddr.SIZE,
        W.VhostVringAddr.flags,
        W.VhostVringAddr.descUserAddr,
        W.VhostVringAddr.usedUserAddr,
        W.VhostVringAddr.availUserAddr,
        W.VhostVringAddr.logGuestAddr,
        // struct vhost_memory_region: the kernel's has flags_padding where vhost-user has mmap_offset.
        W.VhostUserMemoryRegion.SIZE,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
