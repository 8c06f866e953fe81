/**
 * Virtqueue wire layouts and constants (virtio 1.3, §2.7 split virtqueues, §2.8 packed
 * virtqueues, §6 reserved feature bits). All fields are little-endian.
 */

/** Descriptor continues via the `next` field (split) or the following ring slot (packed). §2.7.5 */
export const VIRTQ_DESC_F_NEXT = 1;
/** Buffer is device write-only (otherwise device read-only). §2.7.5 */
export const VIRTQ_DESC_F_WRITE = 2;
/** Buffer holds a table of indirect descriptors. §2.7.5.3 */
export const VIRTQ_DESC_F_INDIRECT = 4;

/** Driver asks the device not to interrupt (split avail.flags). §2.7.7 */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Device asks the driver not to notify (split used.flags). §2.7.10 */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Packed descriptor flag: available wrap bit. §2.8.1 */
export const VIRTQ_DESC_F_AVAIL = 1 << 7;
/** Packed descriptor flag: used wrap bit. §2.8.1 */
export const VIRTQ_DESC_F_USED = 1 << 15;

/** Packed event suppression: notifications enabled. §2.8.10 */
export const RING_EVENT_FLAGS_ENABLE = 0;
/** Packed event suppression: notifications disabled. §2.8.10 */
export const RING_EVENT_FLAGS_DISABLE = 1;
/** Packed event suppression: notify at the descriptor in `desc` (needs VIRTIO_F_EVENT_IDX). §2.8.10 */
export const RING_EVENT_FLAGS_DESC = 2;

/** Feature bit: indirect descriptors. §6 */
export const VIRTIO_F_INDIRECT_DESC = 28;
/** Feature bit: used_event / avail_event fields (VIRTIO_RING_F_EVENT_IDX in Linux). §6 */
export const VIRTIO_F_EVENT_IDX = 29;
/** Feature bit: packed virtqueue layout. §6 */
export const VIRTIO_F_RING_PACKED = 34;

/** Largest queue size the spec allows (split and packed). §2.7, §2.8 */
export const VIRTQ_MAX_SIZE = 32768;

/** struct virtq_desc (§2.7.5): one split descriptor, 16 bytes, 16-byte aligned table. */
export const VirtqDesc = {
  SIZE: 16,
  ALIGN: 16,
  addr: 0, // le64
  len: 8, // le32
  flags: 12, // le16
  next: 14, // le16
} as const;

/** struct virtq_avail (§2.7.6): 6 + 2*size bytes, 2-byte aligned. */
export const VirtqAvail = {
  ALIGN: 2,
  flags: 0, // le16
  idx: 2, // le16
  ring: 4, // le16[size]
  /** Byte size for a queue of `size` entries (used_event included). */
  size: (n: number): number => 6 + 2 * n,
  /** Offset of le16 used_event (only meaningful with VIRTIO_F_EVENT_IDX). */
  usedEvent: (n: number): number => 4 + 2 * n,
} as const;

/** struct virtq_used (§2.7.8): 6 + 8*size bytes, 4-byte aligned. */
export const VirtqUsed = {
  ALIGN: 4,
  flags: 0, // le16
  idx: 2, // le16
  ring: 4, // struct virtq_used_elem[size]
  /** Byte size for a queue of `size` entries (avail_event included). */
  size: (n: number): number => 6 + 8 * n,
  /** Offset of le16 avail_event (only meaningful with VIRTIO_F_EVENT_IDX). */
  availEvent: (n: number): number => 4 + 8 * n,
} as const;

/** struct virtq_used_elem (§2.7.8): 8 bytes. `id` is le32 holding a descriptor head index. */
export const VirtqUsedElem = {
  SIZE: 8,
  id: 0, // le32
  len: 4, // le32
} as const;

/** struct pvirtq_desc (§2.8.13): one packed descriptor, 16 bytes, 16-byte aligned ring. */
export const PvirtqDesc = {
  SIZE: 16,
  ALIGN: 16,
  addr: 0, // le64
  len: 8, // le32
  id: 12, // le16, buffer id
  flags: 14, // le16
} as const;

/** struct pvirtq_event_suppress (§2.8.13): 4 bytes, 4-byte aligned. */
export const PvirtqEventSuppress = {
  SIZE: 4,
  ALIGN: 4,
  desc: 0, // le16: bits 0..14 descriptor offset, bit 15 wrap counter
  flags: 2, // le16: bits 0..1 RING_EVENT_FLAGS_*
} as const;

/**
 * vring_need_event from the spec (§2.7.10): with indexes mod 2^16, has `newIdx` passed
 * `eventIdx` since `oldIdx`? I.e. is eventIdx in the half-open window [old, new).
 */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
