/**
 * Writes the `vhost-user` fuzz target's seeds (test/fuzz/corpus/vhost-user/):
 *
 * - `scripted-*`: QEMU 10's sequences with the rig's memory and rings (harness/vhost-user-sessions.ts).
 * - `qemu10-boot-reboot-quit` (with `--qemu`): the exact messages a real QEMU 10 sent to our backend
 *   while the Debian guest of test/guest booted, drew its picture, rebooted, drew it again and QEMU
 *   quit. A proxy sits between QEMU and an in-process VhostUserServer over the native host: it
 *   reads each message QEMU sends (header, payload, and the descriptors that came with its first
 *   byte), notes each descriptor's kind from /proc/self/fd, passes message and descriptors on
 *   unchanged, and copies the backend's replies back. QEMU's memfd becomes the rig's 512 MiB memfd
 *   kind, which is as large as the guest's RAM, so the recorded ADD_MEM_REG maps as it did.
 *
 *   pnpm fuzz:seeds:vhost-user [--qemu]
 */
import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectUnix } from '@virtio-gpu/native';
import { MessageReader } from '../../packages/vhost-user/src/framing';
import type { FdSocket } from '../../packages/vhost-user/src/host';
import { NativeHost } from '../../packages/vhost-user/src/native-host';
import { VhostUserServer } from '../../packages/vhost-user/src/server';
import * as W from '../../packages/vhost-user/src/wire';
import { Qemu, tempDir } from '../guest/harness';
import { FdKind, VU_LARGE_MEMFD_BYTES, type VuRecord, encodeRecords } from './harness/vhost-user-rig';
import { scriptedSessions } from './harness/vhost-user-sessions';

const CORPUS = join(fileURLToPath(new URL('.', import.meta.url)), 'corpus/vhost-user');
const BOOT_MS = 300_000;

function kindOf(fd: number): FdKind {
  const target = readlinkSync(`/proc/self/fd/${fd}`);
  if (target === 'anon_inode:[eventfd]') return FdKind.eventfd;
  if (target.startsWith('/memfd:')) return FdKind.largeMemfd;
  if (target.startsWith('socket:')) return FdKind.socket;
  return FdKind.other;
}

/** Pass every message from `from` to `to`, recording it; copy `to`'s bytes back to `from`. */
function proxy(host: NativeHost, from: FdSocket, to: FdSocket, records: VuRecord[], done: () => void): void {
  const reader = new MessageReader(from, W.VHOST_MEMORY_BASELINE_NREGIONS, () => null, (fd) => host.close(fd));
  from.onReadable(() => {
    for (;;) {
      const f = reader.next();
      if (f === 'again') return;
      if (f === 'eof' || 'error' in f) {
        from.onReadable(null);
        to.close();
        from.close();
        done();
        return;
      }
      const bytes = new Uint8Array(W.VhostUserHeader.SIZE + f.payload.length);
      const v = new DataView(bytes.buffer);
      v.setUint32(W.VhostUserHeader.request, f.request, true);
      v.setUint32(W.VhostUserHeader.flags, f.flags, true);
      v.setUint32(W.VhostUserHeader.size, f.payload.length, true);
      bytes.set(f.payload, W.VhostUserHeader.SIZE);
      records.push({ op: 'msg', fds: f.fds.map(kindOf), bytes });
      // QEMU waits for the reply of a request that has one: so does the replay.
      if ((f.flags & W.VHOST_USER_NEED_REPLY_MASK) !== 0 || [1, 11, 15, 17, 24, 36].includes(f.request)) records.push({ op: 'turn' });
      // Small messages: the backend's socket takes each whole (a blocking wait is not needed).
      const sent = to.send(bytes, f.fds);
      if (sent !== bytes.length) throw new Error(`proxy: sent ${sent} of ${bytes.length} bytes`);
      for (const fd of f.fds) host.close(fd);
    }
  });
  const buf = new Uint8Array(4096);
  to.onReadable(() => {
    for (;;) {
      const r = to.recv(buf, 0);
      if (r === null || r.bytes === 0) return;
      from.send(buf.slice(0, r.bytes));
    }
  });
}

async function recordQemu(): Promise<VuRecord[]> {
  const dir = tempDir('vgpu-record-');
  const backendPath = join(dir, 'backend.sock');
  const proxyPath = join(dir, 'proxy.sock');
  const host = new NativeHost();
  const server = new VhostUserServer({ host, path: backendPath, numScanouts: 1, log: (l, m) => console.error(`backend ${l}: ${m}`) });
  server.listen();
  const records: VuRecord[] = [];
  let ended!: () => void;
  const finished = new Promise<void>((r) => (ended = r));
  const listener = host.listen(proxyPath, (fromQemu) => proxy(host, fromQemu, host.adoptSocket(connectUnix(backendPath)), records, ended));
  const qemu = new Qemu({ gpu: { kind: 'vhost-user', socket: proxyPath }, memMiB: VU_LARGE_MEMFD_BYTES >> 20 });
  try {
    await qemu.waitSerial(/GUEST\[[0-9.]+\]: READY/, BOOT_MS);
    console.error('record: guest ready; rebooting it');
    await (await qemu.qmp()).cmd('system_reset');
    await qemu.waitSerial(/GUEST\[[0-9.]+\]: READY/, BOOT_MS, 2);
    console.error('record: guest ready again; quitting QEMU');
  } finally {
    await qemu.quit();
  }
  await finished;
  listener.close();
  server.close();
  return records;
}

async function main(): Promise<void> {
  mkdirSync(CORPUS, { recursive: true });
  for (const s of scriptedSessions()) writeFileSync(join(CORPUS, s.name), encodeRecords(s.records));
  if (process.argv.includes('--qemu')) {
    const records = await recordQemu();
    const msgs = records.filter((r) => r.op === 'msg').length;
    writeFileSync(join(CORPUS, 'qemu10-boot-reboot-quit'), encodeRecords(records));
    console.error(`record: ${msgs} messages from QEMU written`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
