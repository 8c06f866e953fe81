/**
 * Feature negotiation of one connection: the virtio features (GET/SET_FEATURES), the vhost-user
 * protocol features (GET/SET_PROTOCOL_FEATURES), and what the other requests ask of them: which
 * protocol feature allows a request, whether a ring starts enabled, whether rings use EVENT_IDX.
 */
import type { VirtioGpuDevice } from '@virtio-gpu/device';
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC } from '@virtio-gpu/virtqueue';
import { fail } from './protocol-error.js';
import * as W from './wire.js';

const bit = (n: number): bigint => 1n << BigInt(n);

/** Protocol features offered (see the README's table for why each). */
export const OFFERED_PROTOCOL_FEATURES =
  bit(W.VHOST_USER_PROTOCOL_F_MQ) |
  bit(W.VHOST_USER_PROTOCOL_F_REPLY_ACK) |
  bit(W.VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
  bit(W.VHOST_USER_PROTOCOL_F_CONFIG) |
  bit(W.VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
  bit(W.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);

/** VIRTIO_F_ACCESS_PLATFORM (33) and VIRTIO_F_RING_PACKED (34): never offered, fatal when acked. */
const FATAL_UNOFFERED_FEATURES = bit(33) | bit(34);

/** See the module comment. */
export class Features {
  /** Virtio features offered with GET_FEATURES: the device's own and the transport's. */
  readonly offered: bigint;
  private acked = 0n;
  private ignored = 0n;
  private protocol = 0n;

  constructor(
    private readonly device: VirtioGpuDevice,
    /** Logs an info line (already naming the connection). */
    private readonly logInfo: (message: string) => void,
  ) {
    this.offered = device.features | bit(W.VIRTIO_F_VERSION_1) | bit(VIRTIO_F_INDIRECT_DESC) | bit(VIRTIO_F_EVENT_IDX) | bit(W.VHOST_USER_F_PROTOCOL_FEATURES);
  }

  /** VHOST_USER_SET_FEATURES with `value`; `ringRunning`: whether any ring has started. */
  setFeatures(value: bigint, ringRunning: boolean): void {
    // QEMU passes on what the guest acked of QEMU's own offer (vhost-user-gpu-pci adds
    // transport bits such as VIRTIO_F_RING_RESET), not only of ours. Bits that change the
    // ring format or its addresses cannot be honoured; the rest mean nothing here.
    const unsupported = value & ~this.offered & FATAL_UNOFFERED_FEATURES;
    if (unsupported !== 0n) fail(`features 0x${unsupported.toString(16)} (packed rings, IOMMU addresses) are not supported`);
    if (ringRunning) fail('features changed while a ring runs');
    const ignored = value & ~this.offered;
    if (ignored !== 0n && ignored !== this.ignored) {
      this.logInfo(`frontend acked features 0x${ignored.toString(16)} it was not offered; ignored`);
    }
    this.ignored = ignored;
    this.acked = value & this.offered;
    this.device.negotiate(this.deviceFeatures);
  }

  /** VHOST_USER_SET_PROTOCOL_FEATURES with `value`. */
  setProtocolFeatures(value: bigint): void {
    const extra = value & ~OFFERED_PROTOCOL_FEATURES;
    if (extra !== 0n) fail(`protocol features 0x${extra.toString(16)} were not offered`);
    this.protocol = value;
  }

  /** The acked features the device implements itself: what it is given after SET_FEATURES and after each reset. */
  get deviceFeatures(): bigint {
    return this.acked & this.device.features;
  }

  /** Whether the frontend acked virtio feature bit `feature`. */
  isAcked(feature: number): boolean {
    return (this.acked & bit(feature)) !== 0n;
  }

  /** Whether the frontend set vhost-user protocol feature bit `protocolFeature`. */
  has(protocolFeature: number): boolean {
    return (this.protocol & bit(protocolFeature)) !== 0n;
  }

  /** Whether the frontend set any protocol feature at all. */
  get anyProtocolFeature(): boolean {
    return this.protocol !== 0n;
  }
}
