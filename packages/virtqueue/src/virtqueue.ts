/**
 * The device-side queue contract (docs/architecture.md): what a device needs from any transport's
 * queue. SplitQueue and PackedQueue implement it over guest memory; a transport with queues of
 * its own (a vhost-user backend, an emulator's model) implements the same interfaces, and test
 * fakes do too, without casts.
 */

import type { QueueError } from './queue-error.js';

/** Sequential reader over a chain's device-readable bytes (scatter-gather). */
export interface ChainReader {
  /** Bytes not yet read. */
  readonly remaining: number;
  /** Copies up to `dst.length` bytes into dst; returns the count copied (less at the end). */
  read(dst: Uint8Array): number;
  /**
   * The next n bytes, or `null` when fewer remain (nothing consumed then): a view into guest
   * memory when they are contiguous (the guest may change it), otherwise a copy.
   */
  readBytes(n: number): Uint8Array | null;
  /** Skips n bytes; false (and nothing skipped) when fewer than n remain. */
  skip(n: number): boolean;
}

/** Sequential writer over a chain's device-writable bytes (scatter-gather). */
export interface ChainWriter {
  /** Writable bytes left. */
  readonly remaining: number;
  /** Bytes written so far (the usual `bytesWritten` of `pushUsed`). */
  readonly written: number;
  /** Copies as much of src as fits into the guest buffers; returns the count written. */
  write(src: Uint8Array): number;
  /**
   * The next n writable bytes as a view into guest memory, counted as written, so a reply can be
   * built in place; `null`, with nothing consumed, when that is not possible (too few bytes left,
   * split across buffers, or a transport without direct views): the caller then uses write().
   */
  claim(n: number): Uint8Array | null;
}

/** One chain the driver made available, from `pop()` until `pushUsed()`. */
export interface Chain {
  /** The id the used ring reports: the head descriptor index (split) or buffer id (packed). */
  readonly head: number;
  /** The device-readable part. */
  readonly reader: ChainReader;
  /** The device-writable part. */
  readonly writer: ChainWriter;
}

/** Device side of one virtqueue. No method throws for any guest memory content. */
export interface Virtqueue<C extends Chain = Chain> {
  /** The next available chain, or `null` when none is available or the queue is broken. */
  pop(): C | null;
  /**
   * Returns a popped chain to the driver with `bytesWritten` bytes written (clamped to the
   * chain's writable size). The chain object may be recycled: do not use it afterwards.
   */
  pushUsed(chain: C, bytesWritten: number): void;
  /** After a batch of `pushUsed`: does the driver want an interrupt for it? */
  shouldNotify(): boolean;
  /** Set on ring corruption; the device should set DEVICE_NEEDS_RESET. */
  readonly broken: QueueError | null;
  /** Back to the initial state (indexes 0, not broken) for the same ring addresses. */
  reset(): void;
}
