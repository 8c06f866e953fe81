/**
 * Why a virtqueue stopped. Every kind is a driver requirement the guest broke (virtio 1.3
 * §2.7 / §2.8); the device reacts by setting DEVICE_NEEDS_RESET (§2.1.2) and waiting for reset.
 */
export type QueueErrorKind =
  /** avail idx moved more than the queue size past the last one seen (§2.7.6). */
  | 'avail-index'
  /** A head index from the avail ring is not below the queue size (§2.7.6). */
  | 'head-index'
  /** A `next` field points outside its descriptor table (§2.7.5). */
  | 'next-index'
  /** A chain visits more descriptors than its table holds, so it must loop (§2.7.5.2). */
  | 'chain-loop'
  /** VIRTQ_DESC_F_INDIRECT inside an indirect table (§2.7.5.3.1). */
  | 'nested-indirect'
  /** VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT (§2.7.5.3.1). */
  | 'indirect-next'
  /** Indirect table length zero, not a multiple of 16, or above the queue's bound. */
  | 'indirect-length'
  /** Packed ring: an indirect descriptor that is not alone in its chain (§2.8.19). */
  | 'indirect-position'
  /** A buffer descriptor with len 0 (refused like QEMU does: no driver needs one). */
  | 'zero-length'
  /** A buffer or indirect table is not (contiguously, for tables) in guest memory. */
  | 'unmapped'
  /** A device-readable descriptor follows a device-writable one (§2.7.4.2). */
  | 'read-after-write'
  /** The chain's buffers add up to more than 2^32 - 1 bytes (§2.7.5.2). */
  | 'chain-too-long'
  /** A host bug threw while parsing; reported as corruption rather than escaping. */
  | 'internal';

/** A typed virtqueue failure: see {@link QueueErrorKind}. */
export interface QueueError {
  readonly kind: QueueErrorKind;
  /** One line for logs, naming the offending index or value. */
  readonly message: string;
}
