/**
 * 20 connect/disconnect cycles against the real server process (`virtio-gpu serve --vhost-user`)
 * over real kernel objects: each cycle passes a memfd (guest RAM, mapped by the backend),
 * kick/call/err eventfds, the backend-request socket and a display socket by SCM_RIGHTS, starts
 * both rings, kicks them, and hangs up. The backend's descriptors (/proc/PID/fd) and memfd
 * mappings (/proc/PID/maps) must be back where they started after every cycle; a cycle that
 * breaks the protocol must be cleaned up the same way.
 *
 * No QEMU needed; needs the built CLI and the native binary (both built by `pnpm build`).
 */
import { closeFd, connectUnix, eventfdCreate, eventfdWrite, memfdCreate, nativeStatus, recvWithFds, sendWithFds, socketPair } from '@virtio-gpu/native';
import * as W from '@virtio-gpu/vhost-user';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, IN_CI, OurBackend, cleanupTemp, fdCount, memfdMappings } from '../guest/harness.js';

const problem = !nativeStatus().fdPlumbing ? `no native fd plumbing: ${nativeStatus().lacks.join(', ')}` : !existsSync(CLI_BIN) ? `no built CLI at ${CLI_BIN}` : null;
if (problem && !IN_CI) console.warn(`vhost-user cycle test skipped: ${problem}`);
const suite = problem && !IN_CI ? describe.skip : describe;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const RAM = 16 << 20;
const UVA = 0x7f00_0000_0000;

/** A frontend speaking vhost-user over a real socket. */
class Frontend {
  readonly fd: number;
  private buf = Buffer.alloc(0);
  constructor(path: string) {
    this.fd = connectUnix(path);
  }

  send(request: number, payload: Uint8Array = new Uint8Array(0), fds: number[] = [], needReply = false): void {
    const b = Buffer.alloc(12 + payload.byteLength);
    b.writeUInt32LE(request, 0);
    b.writeUInt32LE(W.VHOST_USER_VERSION | (needReply ? W.VHOST_USER_NEED_REPLY_MASK : 0), 4);
    b.writeUInt32LE(payload.byteLength, 8);
    b.set(payload, 12);
    const n = sendWithFds(this.fd, b, fds);
    if (n !== b.length) throw new Error(`short send ${n}`);
  }

  async reply(ms = 5000): Promise<Buffer> {
    const end = Date.now() + ms;
    const tmp = new Uint8Array(4096);
    for (;;) {
      if (this.buf.length >= 12 && this.buf.length >= 12 + this.buf.readUInt32LE(8)) {
        const n = 12 + this.buf.readUInt32LE(8);
        const m = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return m;
      }
      const r = recvWithFds(this.fd, tmp, 0);
      if (r && r.bytes === 0) throw new Error('backend closed the connection');
      if (r) this.buf = Buffer.concat([this.buf, Buffer.from(tmp.subarray(0, r.bytes))]);
      else if (Date.now() > end) throw new Error('no reply');
      else await sleep(2);
    }
  }

  async call(request: number, payload?: Uint8Array, fds?: number[], needReply = false): Promise<Buffer> {
    this.send(request, payload, fds, needReply);
    return this.reply();
  }

  close(): void {
    closeFd(this.fd);
  }
}

const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
const state = (i: number, n: number) => {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(i, 0);
  b.writeUInt32LE(n, 4);
  return b;
};

/** One full session: everything QEMU 10 sends up to running rings, a kick, then hang-up. */
async function session(path: string, breakIt: boolean): Promise<void> {
  const fe = new Frontend(path);
  const mine: number[] = [];
  const own = <T extends number>(fd: T): T => (mine.push(fd), fd);
  try {
    const features = (await fe.call(W.VHOST_USER_GET_FEATURES)).readBigUInt64LE(12);
    const proto = (await fe.call(W.VHOST_USER_GET_PROTOCOL_FEATURES)).readBigUInt64LE(12);
    fe.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, u64(proto));
    const [reqA, reqB] = socketPair();
    own(reqA);
    await fe.call(W.VHOST_USER_SET_BACKEND_REQ_FD, undefined, [own(reqB)], true);
    fe.send(W.VHOST_USER_SET_OWNER);
    const kick = [own(eventfdCreate()), own(eventfdCreate())];
    for (let i = 0; i < 2; i++) {
      fe.send(W.VHOST_USER_SET_VRING_CALL, u64(BigInt(i)), [own(eventfdCreate())]);
      fe.send(W.VHOST_USER_SET_VRING_ERR, u64(BigInt(i)), [own(eventfdCreate())]);
    }
    const [gpuA, gpuB] = socketPair();
    own(gpuA);
    fe.send(W.VHOST_USER_GPU_SET_SOCKET, undefined, [own(gpuB)]);
    fe.send(W.VHOST_USER_SET_FEATURES, u64(features & ((1n << 32n) | (1n << 30n) | (1n << 1n))));
    const mem = own(memfdCreate('vgpu-cycle-ram', RAM));
    const reg = Buffer.alloc(40);
    reg.writeBigUInt64LE(0n, 8);
    reg.writeBigUInt64LE(BigInt(RAM), 16);
    reg.writeBigUInt64LE(BigInt(UVA), 24);
    await fe.call(W.VHOST_USER_ADD_MEM_REG, reg, [mem], true);
    for (let i = 0; i < 2; i++) {
      // Zeroed rings (nothing available) at 64 KiB * (i + 1): descriptors, avail, used.
      const base = UVA + (i + 1) * 0x10000;
      const addr = Buffer.alloc(40);
      addr.writeUInt32LE(i, 0);
      addr.writeBigUInt64LE(BigInt(base), 8);
      addr.writeBigUInt64LE(BigInt(base + 0x2000), 16);
      addr.writeBigUInt64LE(BigInt(base + 0x1000), 24);
      fe.send(W.VHOST_USER_SET_VRING_NUM, state(i, 64));
      fe.send(W.VHOST_USER_SET_VRING_BASE, state(i, 0));
      fe.send(W.VHOST_USER_SET_VRING_ADDR, addr);
      fe.send(W.VHOST_USER_SET_VRING_KICK, u64(BigInt(i)), [kick[i]]);
      await fe.call(W.VHOST_USER_SET_VRING_ENABLE, state(i, 1), undefined, true);
      eventfdWrite(kick[i]);
    }
    if (breakIt) {
      // An overlapping second region: the backend must close the connection and clean up.
      const mem2 = own(memfdCreate('vgpu-cycle-ram2', RAM));
      fe.send(W.VHOST_USER_ADD_MEM_REG, reg, [mem2], true);
      await fe.reply().then(
        (r) => expect(r.readBigUInt64LE(12)).not.toBe(0n),
        () => {},
      );
    } else {
      await fe.call(W.VHOST_USER_GET_QUEUE_NUM);
    }
  } finally {
    fe.close();
    for (const fd of mine) closeFd(fd);
  }
}

suite('vhost-user server: 20 connect/disconnect cycles over real descriptors', () => {
  let backend: OurBackend;

  beforeAll(async () => {
    if (problem) throw new Error(problem);
    backend = new OurBackend();
    await backend.ready();
  });

  afterAll(async () => {
    expect(await backend?.stop()).toBe(0);
    cleanupTemp();
  });

  it('descriptors and guest-memory mappings return to the idle counts after every cycle', async () => {
    const fds0 = fdCount(backend.pid);
    const maps0 = memfdMappings(backend.pid);
    for (let i = 1; i <= 20; i++) {
      const broken = i % 5 === 0;
      await session(backend.socket, broken);
      await backend.connectionsClosed(i);
      expect(fdCount(backend.pid), `cycle ${i}: descriptors`).toBe(fds0);
      expect(memfdMappings(backend.pid), `cycle ${i}: memfd mappings`).toBe(maps0);
    }
    expect((backend.stderr.match(/overlaps region/g) ?? []).length).toBe(4);
  }, 120_000);

  it('while a session runs, the backend holds the mapping and the descriptors it was given', async () => {
    const fds0 = fdCount(backend.pid);
    const maps0 = memfdMappings(backend.pid);
    const fe = new Frontend(backend.socket);
    try {
      await fe.call(W.VHOST_USER_GET_FEATURES);
      const proto = (await fe.call(W.VHOST_USER_GET_PROTOCOL_FEATURES)).readBigUInt64LE(12);
      fe.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, u64(proto));
      const mem = memfdCreate('vgpu-held', RAM);
      const reg = Buffer.alloc(40);
      reg.writeBigUInt64LE(BigInt(RAM), 16);
      reg.writeBigUInt64LE(BigInt(UVA), 24);
      await fe.call(W.VHOST_USER_ADD_MEM_REG, reg, [mem], true);
      closeFd(mem);
      const call = eventfdCreate();
      fe.send(W.VHOST_USER_SET_VRING_CALL, u64(0n), [call]);
      closeFd(call);
      await fe.call(W.VHOST_USER_GET_QUEUE_NUM);
      expect(memfdMappings(backend.pid)).toBe(maps0 + 1);
      expect(fdCount(backend.pid)).toBe(fds0 + 2); // the connection and the call eventfd
    } finally {
      fe.close();
    }
    await backend.connectionsClosed(21);
    expect(memfdMappings(backend.pid)).toBe(maps0);
    expect(fdCount(backend.pid)).toBe(fds0);
  });
});
