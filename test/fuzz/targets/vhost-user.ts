/**
 * Fuzz target: the vhost-user backend (packages/vhost-user: framing, decodeRequest, the
 * connection's state machine, guest memory, vrings, the display channel) behind a real
 * VhostUserServer, fed by a hostile frontend: raw socket bytes with descriptors of every kind
 * attached, kicks, guest commands on the rings, and console replies (harness/vhost-user-rig.ts).
 * Checked after every input:
 * - nothing throws out of the backend (a throw in one of its callbacks is a finding too);
 * - every frame the backend sent is a version-1 reply;
 * - once the frontend closes, the connection is released: every descriptor the backend received
 *   is closed and every mapping unmapped; a connection the backend closed for a protocol error
 *   got exactly one error line, and no host bug was logged;
 * - the same server then serves a fresh QEMU-like connection to OK_DISPLAY_INFO through its rings,
 *   and releases that one too.
 */
import * as W from '../../../packages/vhost-user/src/wire';
import { VU_RAM, VU_UVA_BIAS, VhostUserRig } from '../harness/vhost-user-rig';

export const maxLen = 8 * 1024;
/** Request numbers, header flags, payload sizes, feature words, ring addresses. */
export const dictionary: number[] = [
  ...Array.from({ length: 41 }, (_, i) => i),
  W.VHOST_USER_VERSION,
  W.VHOST_USER_VERSION | W.VHOST_USER_NEED_REPLY_MASK,
  W.VHOST_USER_VERSION | W.VHOST_USER_REPLY_MASK,
  W.VHOST_USER_MAX_PAYLOAD,
  W.VHOST_USER_MAX_PAYLOAD + 1,
  W.VHOST_USER_VRING_NOFD_MASK,
  W.VhostVringAddr.SIZE,
  W.VhostUserMemRegMsg.SIZE,
  0xa229,
  1 << 30,
  VU_RAM.gpa,
  VU_RAM.bytes,
  VU_UVA_BIAS % 2 ** 32,
  VU_UVA_BIAS / 2 ** 32,
  0xffff,
  0x8000,
  0xffff_ffff,
];

export async function fuzz(data: Uint8Array): Promise<void> {
  const rig = new VhostUserRig();
  try {
    await rig.run(data);
    await rig.finish();
    await rig.healthCheck();
  } finally {
    rig.server.close();
  }
}
