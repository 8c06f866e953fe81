/**
 * The hostile-frontend catalogue for vhost-user (packages/vhost-user), over real UNIX sockets and
 * real descriptors (memfds, eventfds, SCM_RIGHTS, mmap) with the server in this process. Each
 * malformed message must close exactly its connection with one error line giving the reason, and
 * release what that connection held: afterwards this process has exactly the descriptors and
 * mappings it had with the server idle. Then the health check: a fresh connection negotiates,
 * maps its memory, starts its rings and gets OK_DISPLAY_INFO through the control ring, and is
 * released in turn. Cases marked (fuzz) were found by the `vhost-user` fuzz target.
 */
import * as P from '@virtio-gpu/protocol';
import * as W from '@virtio-gpu/vhost-user';
import { ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventfdWrite, mappingCount, nativeStatus, socketPair } from '@virtio-gpu/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '../fuzz/harness/vhost-user-rig';
import { memReg, memTable, u64, vringAddr, vringState } from '../fuzz/harness/vhost-user-sessions';
import { FE_RAM, NativeFrontend, VhostUserHostileRig, displayInfo, negotiate, startRings } from './vhost-user-rig';

interface Case {
  name: string;
  /** What the frontend does first: nothing, QEMU's negotiation, or negotiation plus running rings. */
  setup?: 'negotiate' | 'rings';
  hostile: (fe: NativeFrontend) => void | Promise<void>;
  /** The reason in the backend's one error line ("connection N: REASON; closing the connection"). */
  reason: string | RegExp;
  /** The frontend hangs up itself (the connection cannot be seen closing from its side). */
  hangsUp?: boolean;
}

const MAX = W.VHOST_USER_MAX_PAYLOAD;
const hex = (n: number) => `0x${n.toString(16)}`;

/** A header with any request, flags and size field, followed by `payload`. */
function raw(request: number, flags: number, size: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(12 + payload.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, request, true);
  v.setUint32(4, flags, true);
  v.setUint32(8, size, true);
  b.set(payload, 12);
  return b;
}

/** One end of a new socket pair, both ends held (and closed) by the frontend. */
function socketOf(fe: NativeFrontend): number {
  const [a, b] = socketPair();
  fe.keep(b);
  return fe.keep(a);
}

const region = (gpa: number, uvaOff = 0) => ({ gpa, size: FE_RAM.bytes, uva: FE_RAM.uva + uvaOff, offset: 0 });

const cases: Case[] = [
  // ---- framing: sizes, versions, flags, descriptors ----
  { name: 'size field larger than the payload (SET_VRING_NUM says 40 bytes, wants 8)', hostile: (fe) => fe.sendRaw(raw(8, 1, 40, new Uint8Array(40))), reason: 'request 8: payload 40 bytes, want 8' },
  {
    name: 'size field larger than what follows (100 bytes announced, 8 sent, then hang-up)',
    hostile: (fe) => {
      fe.sendRaw(raw(8, 1, 100, new Uint8Array(8)));
      fe.close();
    },
    hangsUp: true,
    reason: 'connection closed inside a message payload',
  },
  { name: 'huge size field (0xffffffff): refused from the header, nothing allocated', hostile: (fe) => fe.sendRaw(raw(1, 1, 0xffff_ffff)), reason: `payload of 4294967295 bytes (at most ${MAX})` },
  { name: 'size one past the largest request', hostile: (fe) => fe.sendRaw(raw(25, 1, MAX + 1)), reason: `payload of ${MAX + 1} bytes (at most ${MAX})` },
  { name: 'unknown request 99', hostile: (fe) => fe.send(99), reason: 'unsupported request 99' },
  { name: 'request 0', hostile: (fe) => fe.send(0), reason: 'unsupported request 0' },
  { name: 'a request never offered (SET_LOG_BASE)', hostile: (fe) => fe.send(W.VHOST_USER_SET_LOG_BASE, u64(0n)), reason: 'unsupported request 6' },
  { name: 'version 0 in the flags', hostile: (fe) => fe.sendRaw(raw(1, 0, 0)), reason: 'version 0 (want 1)' },
  { name: 'the reply flag on a request', hostile: (fe) => fe.sendRaw(raw(1, 5, 0)), reason: 'reply flag set on a request' },
  { name: 'unknown flag bits', hostile: (fe) => fe.sendRaw(raw(1, 0x101, 0)), reason: 'unknown flags 0x101' },
  {
    name: 'nine descriptors on one message (at most eight): all closed by the receive',
    hostile: (fe) => fe.send(W.VHOST_USER_SET_MEM_TABLE, memTable([region(FE_RAM.gpa)]), Array.from({ length: 9 }, () => fe.eventfd())),
    reason: 'more descriptors than a message may carry',
  },
  {
    name: 'a descriptor arriving in the middle of a payload',
    hostile: (fe) => {
      const m = message(W.VHOST_USER_SET_VRING_NUM, vringState(0, 16));
      fe.sendRaw(m.subarray(0, 12));
      fe.sendRaw(m.subarray(12), [fe.eventfd()]);
    },
    reason: 'descriptors in the middle of a message',
  },
  {
    name: 'connection closed inside a header',
    hostile: (fe) => {
      fe.sendRaw(raw(1, 1, 0).subarray(0, 5));
      fe.close();
    },
    hangsUp: true,
    reason: 'connection closed inside a message header',
  },
  { name: 'a descriptor on a request that takes none (GET_FEATURES)', hostile: (fe) => fe.send(W.VHOST_USER_GET_FEATURES, undefined, [fe.eventfd()]), reason: 'GET_FEATURES with 1 descriptors (want 0)' },
  // ---- vrings ----
  { name: 'vring index out of range (SET_VRING_NUM for vring 2)', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_NUM, vringState(2, 16)), reason: 'SET_VRING_NUM: vring index 2 (the device has 2)' },
  { name: 'vring index 0xffffffff (GET_VRING_BASE)', hostile: (fe) => fe.send(W.VHOST_USER_GET_VRING_BASE, vringState(0xffff_ffff, 0)), reason: 'GET_VRING_BASE: vring index 4294967295 (the device has 2)' },
  {
    name: '(fuzz) SET_VRING_KICK for vring 114 with an eventfd: refused and the eventfd closed',
    hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_KICK, u64(114n), [fe.eventfd()]),
    reason: 'SET_VRING_KICK: vring index 114 (the device has 2)',
  },
  { name: 'kick without an fd: the no-fd flag (polling, not supported)', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_KICK, u64(0x100n)), reason: 'SET_VRING_KICK: vring 0: polling (no kick fd) is not supported' },
  { name: 'kick without an fd: no flag and no descriptor', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_KICK, u64(0n)), reason: 'SET_VRING_KICK with 0 descriptors (want 1)' },
  {
    name: '(fuzz) SET_VRING_CALL with a memfd, not an eventfd',
    hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_CALL, u64(0n), [fe.memfd(4096)]),
    reason: 'SET_VRING_CALL: vring 0: the descriptor is not an eventfd',
  },
  { name: 'SET_VRING_KICK with a socket, not an eventfd', setup: 'negotiate', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_KICK, u64(1n), [socketOf(fe)]), reason: 'SET_VRING_KICK: vring 1: the descriptor is not an eventfd' },
  { name: 'reserved bits in SET_VRING_ERR', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_ERR, u64(0x200n)), reason: 'request 14: reserved bits set in 0x200' },
  { name: 'vring size 0', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_NUM, vringState(0, 0)), reason: 'SET_VRING_NUM: vring size 0 is not a power of 2 in [1, 32768]' },
  { name: 'vring size 65536', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_NUM, vringState(0, 65536)), reason: 'SET_VRING_NUM: vring size 65536 is not a power of 2 in [1, 32768]' },
  { name: 'vring base beyond 16 bits', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_BASE, vringState(0, 0x10000)), reason: 'SET_VRING_BASE: SET_VRING_BASE 65536 (a split ring index is 16 bits)' },
  { name: 'SET_VRING_ENABLE 2', setup: 'negotiate', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_ENABLE, vringState(0, 2)), reason: 'SET_VRING_ENABLE: SET_VRING_ENABLE 2' },
  {
    name: 'SET_VRING_ADDR asking for dirty logging',
    hostile: (fe) => {
      const p = vringAddr(0, FE_RAM.uva, FE_RAM.uva + 0x1000, FE_RAM.uva + 0x2000);
      new DataView(p.buffer).setUint32(4, 1, true);
      fe.send(W.VHOST_USER_SET_VRING_ADDR, p);
    },
    reason: 'SET_VRING_ADDR: logging requested (VHOST_F_LOG_ALL was not offered)',
  },
  {
    name: 'unmapped ring addresses: a ring outside every region, then its kick',
    setup: 'negotiate',
    hostile: (fe) => {
      const mem = fe.memfd(FE_RAM.bytes);
      fe.send(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa, FE_RAM.bytes, FE_RAM.uva, 0), [mem]);
      fe.send(W.VHOST_USER_SET_VRING_NUM, vringState(0, 16));
      fe.send(W.VHOST_USER_SET_VRING_ADDR, vringAddr(0, 0x1000, 0x2000, 0x3000));
      fe.send(W.VHOST_USER_SET_VRING_KICK, u64(0n), [fe.eventfd()]);
    },
    reason: 'SET_VRING_KICK: vring 0: ring areas are not inside one memory region each',
  },
  {
    name: 'a ring whose descriptor table runs past its region end',
    setup: 'negotiate',
    hostile: (fe) => {
      fe.send(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa, FE_RAM.bytes, FE_RAM.uva, 0), [fe.memfd(FE_RAM.bytes)]);
      fe.send(W.VHOST_USER_SET_VRING_NUM, vringState(0, 256));
      fe.send(W.VHOST_USER_SET_VRING_ADDR, vringAddr(0, FE_RAM.uva + FE_RAM.bytes - 0x800, FE_RAM.uva, FE_RAM.uva + 0x2000));
      fe.send(W.VHOST_USER_SET_VRING_KICK, u64(0n), [fe.eventfd()]);
    },
    reason: 'SET_VRING_KICK: vring 0: ring areas are not inside one memory region each',
  },
  { name: 'a ring started without SET_VRING_NUM', hostile: (fe) => fe.send(W.VHOST_USER_SET_VRING_KICK, u64(0n), [fe.eventfd()]), reason: 'SET_VRING_KICK: vring 0: started without SET_VRING_NUM' },
  // ---- memory ----
  { name: 'zero memory regions', hostile: (fe) => fe.send(W.VHOST_USER_SET_MEM_TABLE, memTable([])), reason: 'SET_MEM_TABLE: 0 regions (1..8)' },
  {
    name: '100 memory regions (a payload that holds them all)',
    hostile: (fe) => fe.send(W.VHOST_USER_SET_MEM_TABLE, memTable(Array.from({ length: 100 }, (_, i) => region(FE_RAM.gpa + i * FE_RAM.bytes, i * FE_RAM.bytes)))),
    reason: `payload of ${8 + 100 * 32} bytes (at most ${MAX})`,
  },
  {
    name: '100 memory regions announced in an 8-region payload',
    hostile: (fe) => {
      const p = memTable(Array.from({ length: 8 }, (_, i) => region(FE_RAM.gpa + i * FE_RAM.bytes, i * FE_RAM.bytes)));
      new DataView(p.buffer).setUint32(0, 100, true);
      fe.send(W.VHOST_USER_SET_MEM_TABLE, p);
    },
    reason: 'SET_MEM_TABLE: 100 regions (1..8)',
  },
  {
    name: 'overlapping regions (guest addresses): both memfds closed, nothing mapped',
    hostile: (fe) => fe.send(W.VHOST_USER_SET_MEM_TABLE, memTable([region(FE_RAM.gpa), region(FE_RAM.gpa + 0x8_0000, 0x1000_0000)]), [fe.memfd(FE_RAM.bytes), fe.memfd(FE_RAM.bytes)]),
    reason: `SET_MEM_TABLE: region 1: guest range ${hex(FE_RAM.gpa + 0x8_0000)}+0x100000 overlaps region at ${hex(FE_RAM.gpa)}`,
  },
  {
    name: 'overlapping regions (user addresses)',
    hostile: (fe) => fe.send(W.VHOST_USER_SET_MEM_TABLE, memTable([region(FE_RAM.gpa), region(FE_RAM.gpa + 0x1000_0000, 0x8_0000)]), [fe.memfd(FE_RAM.bytes), fe.memfd(FE_RAM.bytes)]),
    reason: `SET_MEM_TABLE: region 1: user range ${hex(FE_RAM.uva + 0x8_0000)}+0x100000 overlaps region at ${hex(FE_RAM.uva)}`,
  },
  {
    name: 'ADD_MEM_REG overlapping the region already there (the first stays mapped until the close)',
    setup: 'negotiate',
    hostile: (fe) => {
      fe.send(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa, FE_RAM.bytes, FE_RAM.uva, 0), [fe.memfd(FE_RAM.bytes)]);
      fe.send(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa + 0x1000, FE_RAM.bytes, FE_RAM.uva + 0x1000_0000, 0), [fe.memfd(FE_RAM.bytes)]);
    },
    reason: `ADD_MEM_REG: guest range ${hex(FE_RAM.gpa + 0x1000)}+0x100000 overlaps region at ${hex(FE_RAM.gpa)}`,
  },
  {
    name: 'a region larger than its memfd (its pages past the end would raise SIGBUS)',
    setup: 'negotiate',
    hostile: (fe) => fe.send(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa, 16 * FE_RAM.bytes, FE_RAM.uva, 0), [fe.memfd(FE_RAM.bytes)]),
    reason: 'ADD_MEM_REG: mmap of 0x1000000 bytes at fd offset 0x0 failed: [0x0, +0x1000000) passes the end of the 1048576-byte file',
  },
  {
    name: 'a region backed by an eventfd',
    setup: 'negotiate',
    hostile: (fe) => fe.send(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa, FE_RAM.bytes, FE_RAM.uva, 0), [fe.eventfd()]),
    reason: /^ADD_MEM_REG: mmap of 0x100000 bytes at fd offset 0x0 failed: descriptor \d+ is not a mappable file \(anon_inode:\[eventfd\]\)$/,
  },
  { name: 'a memory table with fewer descriptors than regions', hostile: (fe) => fe.send(W.VHOST_USER_SET_MEM_TABLE, memTable([region(FE_RAM.gpa), region(FE_RAM.gpa + 0x1000_0000, 0x1000_0000)]), [fe.memfd(FE_RAM.bytes)]), reason: 'SET_MEM_TABLE with 1 descriptors (want 2)' },
  { name: 'an empty region', hostile: (fe) => fe.send(W.VHOST_USER_SET_MEM_TABLE, memTable([{ ...region(FE_RAM.gpa), size: 0 }]), [fe.memfd(FE_RAM.bytes)]), reason: 'SET_MEM_TABLE region 0: empty region' },
  {
    name: 'guest RAM in a file that cannot be sealed, shrunk under the running rings (SIGBUS without the guard)',
    hostile: async (fe) => {
      // A plain file, as memory-backend-file on tmpfs gives: unlike a memfd it cannot be sealed.
      const path = join(tmpdir(), `vgpu-hostile-ram-${process.pid}`);
      const fd = fe.keep(openSync(path, 'w+'));
      unlinkSync(path);
      ftruncateSync(fd, FE_RAM.bytes);
      const s = await startRings(fe, await negotiate(fe), 16, fd);
      s.ram.unmap();
      ftruncateSync(fd, 0);
      // The backend reads the avail ring, in pages the file no longer has.
      eventfdWrite(s.kick[0], 1n);
    },
    reason: `the frontend shrank the file under the memory region at guest ${hex(FE_RAM.gpa)} (0x100000 bytes)`,
  },
  { name: 'REM_MEM_REG of a region that is not there', setup: 'negotiate', hostile: (fe) => fe.send(W.VHOST_USER_REM_MEM_REG, memReg(FE_RAM.gpa, FE_RAM.bytes, FE_RAM.uva, 0)), reason: `REM_MEM_REG: no region at guest ${hex(FE_RAM.gpa)} user ${hex(FE_RAM.uva)} size 0x100000` },
  // ---- features and state ----
  { name: 'ADD_MEM_REG before CONFIGURE_MEM_SLOTS was negotiated: the memfd closed', hostile: (fe) => fe.send(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa, FE_RAM.bytes, FE_RAM.uva, 0), [fe.memfd(FE_RAM.bytes)]), reason: 'ADD_MEM_REG: ADD_MEM_REG without CONFIGURE_MEM_SLOTS' },
  { name: 'SET_BACKEND_REQ_FD before BACKEND_REQ was negotiated: the descriptor closed', hostile: (fe) => fe.send(W.VHOST_USER_SET_BACKEND_REQ_FD, undefined, [fe.eventfd()]), reason: 'SET_BACKEND_REQ_FD: SET_BACKEND_REQ_FD without BACKEND_REQ' },
  { name: 'protocol features that were not offered', hostile: (fe) => fe.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, u64(1n << 63n)), reason: 'SET_PROTOCOL_FEATURES: protocol features 0x8000000000000000 were not offered' },
  { name: 'packed rings acked (never offered)', hostile: (fe) => fe.send(W.VHOST_USER_SET_FEATURES, u64(1n << 34n)), reason: 'SET_FEATURES: features 0x400000000 (packed rings, IOMMU addresses) are not supported' },
  { name: 'GPU_SET_SOCKET with an eventfd, not a socket', hostile: (fe) => fe.send(W.VHOST_USER_GPU_SET_SOCKET, undefined, [fe.eventfd()]), reason: /^GPU_SET_SOCKET: descriptor \d+ is not a socket \(anon_inode:\[eventfd\]\)$/ },
  { name: 'SET_CONFIG past the config space', setup: 'negotiate', hostile: (fe) => fe.send(W.VHOST_USER_SET_CONFIG, (() => { const p = new Uint8Array(12 + 8); new DataView(p.buffer).setUint32(0, 20, true); new DataView(p.buffer).setUint32(4, 8, true); return p; })()), reason: 'SET_CONFIG: SET_CONFIG of 8 bytes at 20' },
  {
    name: 'features changed while a ring runs',
    setup: 'rings',
    hostile: (fe) => fe.send(W.VHOST_USER_SET_FEATURES, u64(1n << 32n)),
    reason: 'SET_FEATURES: features changed while a ring runs',
  },
];

const native = nativeStatus();
// Outside CI without the native build the catalogue cannot run; in CI (.ci/run builds it) it must.
const suite = native.fdPlumbing || process.env.CI ? describe : describe.skip;
if (!native.fdPlumbing && !process.env.CI) console.warn(`vhost-user catalogue skipped: ${native.reason ?? 'no native fd plumbing'}`);

suite('hostile vhost-user frontends: each malformed message closes its connection, and only it', () => {
  let rig: VhostUserHostileRig;
  let released = 0;

  beforeAll(() => {
    rig = new VhostUserHostileRig();
  });
  afterAll(() => rig?.close());

  function expectIdle(what: string): void {
    expect(rig.fdsBeyondBase(), `${what}: descriptors beyond the idle server's`).toEqual([]);
    expect(mappingCount(), `${what}: native mappings`).toBe(rig.baseMappings);
  }

  /** The health check: a fresh connection runs to OK_DISPLAY_INFO through its control ring, then is released. */
  async function healthy(): Promise<void> {
    const logsBefore = rig.logs.length;
    const fe = await rig.connect();
    const started = await startRings(fe, await negotiate(fe));
    try {
      expect(await displayInfo(started)).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    } finally {
      started.ram.unmap();
      fe.close();
    }
    await rig.released(++released);
    expect(rig.closed.at(-1), 'the well-behaved connection ended by its frontend').toBeNull();
    expect(rig.logs.slice(logsBefore).filter((l) => l.startsWith('error:'))).toEqual([]);
    expectIdle('after the well-behaved connection');
  }

  it('a well-behaved connection first: OK_DISPLAY_INFO, then nothing left', async () => {
    await healthy();
  });

  for (const c of cases) {
    it(c.name, async () => {
      const logsBefore = rig.logs.length;
      const fe = await rig.connect();
      const id = rig.server.connections;
      let ram: { unmap(): void } | null = null;
      try {
        if (c.setup === 'negotiate') await negotiate(fe);
        if (c.setup === 'rings') ram = (await startRings(fe, await negotiate(fe))).ram;
        await c.hostile(fe);
        if (!c.hangsUp) expect(await fe.closedByBackend(), 'the backend closed the connection').toBe(true);
      } finally {
        ram?.unmap();
        fe.close();
      }
      await rig.released(++released);
      const reason = rig.closed.at(-1);
      if (typeof c.reason === 'string') expect(reason).toBe(c.reason);
      else expect(reason).toMatch(c.reason);
      const errors = rig.logs.slice(logsBefore).filter((l) => l.startsWith('error:'));
      expect(errors, 'exactly one error line').toEqual([`error: connection ${id}: ${reason}; closing the connection`]);
      expectIdle('after the hostile connection');
      await healthy();
    });
  }

  it('a second frontend while one is connected is refused; the first one keeps working', async () => {
    const first = await rig.connect();
    const started = await startRings(first, await negotiate(first));
    const second = new NativeFrontend(rig.path);
    try {
      expect(await second.closedByBackend(), 'the listener accepts the second, then closes it').toBe(true);
      expect(rig.logs.at(-1)).toMatch(/^warn: vhost-user: connection \d+ refused: another frontend is still connected$/);
      expect(await displayInfo(started)).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    } finally {
      second.close();
      started.ram.unmap();
      first.close();
    }
    await rig.released(++released);
    expectIdle('after both');
    expect(cases.length + 1, 'named cases in this catalogue').toBeGreaterThanOrEqual(40);
  });
});
