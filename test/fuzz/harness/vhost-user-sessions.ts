/**
 * Well-behaved vhost-user sessions as record lists (vhost-user-rig.ts's format): QEMU 10.0.2's
 * message sequence for vhost-user-gpu-pci (packages/vhost-user/README.md, "What QEMU 10.0.2
 * sends"), with the rig's own memory and rings in place of QEMU's, so the rings really run. They
 * are the scripted seeds of the `vhost-user` fuzz target; the seed recorded from a real QEMU 10
 * (record-vhost-user.ts) keeps QEMU's bytes exactly.
 */
import { FakeFrontend } from '../../../packages/vhost-user/src/testing/fake-frontend';
import * as W from '../../../packages/vhost-user/src/wire';
import { FdKind, VU_RAM, VU_UVA_BIAS, type VuRecord, driverRingLayouts, message } from './vhost-user-rig';

/** The protocol features QEMU 10 acks of our offer. */
const QEMU_PROTOCOL_FEATURES = 0xa229n;
/** The virtio features QEMU 10 passes on (VERSION_1, RING_RESET, PROTOCOL_FEATURES, EVENT_IDX, INDIRECT_DESC, EDID). */
export const QEMU_FEATURES = 0x1_0170_0000_06n;
/** Bytes of virtio_gpu_config QEMU reads with GET_CONFIG. */
const CONFIG_BYTES = 24;

// The payloads a frontend sends, as the fake frontend of packages/vhost-user builds them.
export const u64 = FakeFrontend.u64;
export const vringState = FakeFrontend.state;
export const vringAddr = FakeFrontend.addr;

/** A memory region entry (VhostUserMemoryRegion) at `at` of `p`. */
function putRegion(p: Uint8Array, at: number, gpa: number, size: number, uva: number, offset: number): void {
  const v = new DataView(p.buffer, p.byteOffset);
  v.setBigUint64(at + W.VhostUserMemoryRegion.guestPhysAddr, BigInt(gpa), true);
  v.setBigUint64(at + W.VhostUserMemoryRegion.memorySize, BigInt(size), true);
  v.setBigUint64(at + W.VhostUserMemoryRegion.userspaceAddr, BigInt(uva), true);
  v.setBigUint64(at + W.VhostUserMemoryRegion.mmapOffset, BigInt(offset), true);
}

/** ADD_MEM_REG / REM_MEM_REG payload (VhostUserMemRegMsg). */
export function memReg(gpa: number, size: number, uva: number, offset: number): Uint8Array {
  const p = new Uint8Array(W.VhostUserMemRegMsg.SIZE);
  putRegion(p, W.VhostUserMemRegMsg.region, gpa, size, uva, offset);
  return p;
}

/** SET_MEM_TABLE payload (VhostUserMemory) with these regions. */
export function memTable(regions: readonly { gpa: number; size: number; uva: number; offset: number }[]): Uint8Array {
  const p = new Uint8Array(W.VhostUserMemory.SIZE + regions.length * W.VhostUserMemoryRegion.SIZE);
  new DataView(p.buffer).setUint32(W.VhostUserMemory.nregions, regions.length, true);
  regions.forEach((r, i) => putRegion(p, W.VhostUserMemory.regions + i * W.VhostUserMemoryRegion.SIZE, r.gpa, r.size, r.uva, r.offset));
  return p;
}

/** GET_CONFIG / SET_CONFIG payload (VhostUserConfig). */
export function configPayload(offset: number, size: number): Uint8Array {
  const p = new Uint8Array(W.VhostUserConfig.SIZE + size);
  const v = new DataView(p.buffer);
  v.setUint32(W.VhostUserConfig.offset, offset, true);
  v.setUint32(W.VhostUserConfig.size, size, true);
  return p;
}

const msg = (request: number, payload?: Uint8Array, fds: FdKind[] = [], needReply = false): VuRecord => ({ op: 'msg', fds, bytes: message(request, payload, needReply) });
const turn: VuRecord = { op: 'turn' };

/** Connect: negotiation up to the rings' call/err descriptors (QEMU's vhost_dev_init). */
export function connectRecords(): VuRecord[] {
  const r: VuRecord[] = [
    msg(W.VHOST_USER_GET_FEATURES),
    msg(W.VHOST_USER_GET_PROTOCOL_FEATURES),
    msg(W.VHOST_USER_SET_PROTOCOL_FEATURES, u64(QEMU_PROTOCOL_FEATURES)),
    msg(W.VHOST_USER_GET_QUEUE_NUM),
    msg(W.VHOST_USER_GET_MAX_MEM_SLOTS),
    msg(W.VHOST_USER_SET_BACKEND_REQ_FD, undefined, [FdKind.socket], true),
    msg(W.VHOST_USER_SET_OWNER),
    msg(W.VHOST_USER_GET_FEATURES),
  ];
  for (let i = 0; i < 2; i++) r.push(msg(W.VHOST_USER_SET_VRING_CALL, u64(BigInt(i)), [FdKind.eventfd]), msg(W.VHOST_USER_SET_VRING_ERR, u64(BigInt(i)), [FdKind.eventfd]));
  // Machine reset and the driver's probe.
  r.push(msg(W.VHOST_USER_RESET_DEVICE), msg(W.VHOST_USER_RESET_DEVICE), msg(W.VHOST_USER_GET_CONFIG, configPayload(0, CONFIG_BYTES)), msg(W.VHOST_USER_GET_CONFIG, configPayload(0, CONFIG_BYTES)));
  return r;
}

/** DRIVER_OK: display channel, features, memory (unless it is already there), rings started at `base`. */
export function driverOkRecords(opts: { memory: 'add' | 'table' | 'none'; base?: [number, number] }): VuRecord[] {
  const rings = driverRingLayouts();
  const uva = (gpa: number) => gpa + VU_UVA_BIAS;
  const r: VuRecord[] = [msg(W.VHOST_USER_GPU_SET_SOCKET, undefined, [FdKind.socket])];
  for (let i = 0; i < 2; i++) r.push(msg(W.VHOST_USER_SET_VRING_CALL, u64(BigInt(i)), [FdKind.eventfd]));
  r.push(msg(W.VHOST_USER_SET_FEATURES, u64(QEMU_FEATURES)));
  if (opts.memory === 'add') r.push(msg(W.VHOST_USER_ADD_MEM_REG, memReg(VU_RAM.gpa, VU_RAM.bytes, uva(VU_RAM.gpa), 0), [FdKind.ramMemfd], true));
  if (opts.memory === 'table') r.push(msg(W.VHOST_USER_SET_MEM_TABLE, memTable([{ gpa: VU_RAM.gpa, size: VU_RAM.bytes, uva: uva(VU_RAM.gpa), offset: 0 }]), [FdKind.ramMemfd], true));
  for (let i = 0; i < 2; i++) {
    const l = rings[i];
    r.push(
      msg(W.VHOST_USER_SET_VRING_NUM, vringState(i, l.size)),
      msg(W.VHOST_USER_SET_VRING_BASE, vringState(i, opts.base?.[i] ?? 0)),
      msg(W.VHOST_USER_SET_VRING_ADDR, vringAddr(i, uva(l.descAddr), uva(l.usedAddr), uva(l.availAddr))),
      msg(W.VHOST_USER_SET_VRING_KICK, u64(BigInt(i)), [FdKind.eventfd]),
    );
  }
  for (let i = 0; i < 2; i++) r.push(msg(W.VHOST_USER_SET_VRING_ENABLE, vringState(i, 1), [], true));
  for (let i = 0; i < 2; i++) r.push(msg(W.VHOST_USER_SET_VRING_CALL, u64(BigInt(i)), [FdKind.eventfd]));
  r.push(turn);
  return r;
}

/** Stop (quit, reset, or `stop` on the monitor): rings disabled, bases read, QEMU's notifiers back. */
export function stopRecords(): VuRecord[] {
  const r: VuRecord[] = [];
  for (let i = 0; i < 2; i++) r.push(msg(W.VHOST_USER_SET_VRING_ENABLE, vringState(i, 0), [], true));
  for (let i = 0; i < 2; i++) r.push(msg(W.VHOST_USER_GET_VRING_BASE, vringState(i, 0)));
  for (let i = 0; i < 2; i++) r.push(msg(W.VHOST_USER_SET_VRING_CALL, u64(BigInt(i)), [FdKind.eventfd]));
  r.push(turn);
  return r;
}

/** Guest commands on the rings: display info, a resource shown, refused and undecodable commands, the cursor. */
export function workRecords(): VuRecord[] {
  const c = (which: number, queue: 0 | 1 = 0): VuRecord => ({ op: 'cmd', queue, which });
  return [c(0), turn, c(4), turn, c(1), c(3), c(2), c(5), turn, c(0, 1), turn, c(6), turn];
}

/** The scripted sessions: name and records. */
export function scriptedSessions(): { name: string; records: VuRecord[] }[] {
  const boot = (memory: 'add' | 'table') => [...connectRecords(), ...driverOkRecords({ memory })];
  return [
    { name: 'scripted-qemu10-boot-and-commands', records: [...boot('add'), ...workRecords()] },
    { name: 'scripted-qemu10-mem-table-boot', records: [...boot('table'), ...workRecords()] },
    {
      name: 'scripted-qemu10-reboot',
      records: [...boot('add'), ...workRecords(), ...stopRecords(), msg(W.VHOST_USER_RESET_DEVICE), msg(W.VHOST_USER_RESET_DEVICE), msg(W.VHOST_USER_RESET_DEVICE), ...driverOkRecords({ memory: 'none' }), ...workRecords()],
    },
    // `stop` then `cont`: the rings resume where GET_VRING_BASE said (7 control chains, 1 cursor).
    { name: 'scripted-qemu10-pause-resume', records: [...boot('add'), ...workRecords(), ...stopRecords(), ...driverOkRecords({ memory: 'none', base: [7, 1] }), ...workRecords()] },
  ];
}
