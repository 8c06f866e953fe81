/**
 * The transport's saved state: plain data (bigints and byte arrays included) that a host
 * serialises with its own snapshot (see @virtio-gpu/v86's state codec).
 */
import type { CommonSnapshot } from './common-registers.js';
import type { QueuePosition } from './queue-registers.js';

/** virtio-pci function state, version 1. */
export interface TransportSnapshot {
  version: 1;
  /** The 256 configuration-space bytes (BAR address, command, MSI-X control, window). */
  config: Uint8Array;
  common: CommonSnapshot;
  isr: number;
  msixTable: Uint8Array | null;
  msixPba: Uint8Array | null;
  /** Ring positions of the live queues, by index (null: not running). */
  positions: (QueuePosition | null)[];
  pendingKicks: number[];
}
