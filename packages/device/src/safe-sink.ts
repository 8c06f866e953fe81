/**
 * The one guard between the device and its display: a ScanoutSink that never throws into the
 * device. The sink is host code; if it throws, that is a host bug, logged and contained, and the
 * command that reported the change still gets its answer.
 */
import type { Rect } from '@virtio-gpu/protocol';
import type { RateLimitedLog } from './log.js';
import type { CursorState, ScanoutInfo, ScanoutSink } from './scanouts.js';

/** Forwards to the embedder's sink (if any), catching what it throws. */
export class SafeSink implements ScanoutSink {
  constructor(
    private readonly sink: ScanoutSink | undefined,
    private readonly log: RateLimitedLog,
  ) {}

  scanoutChanged(scanoutId: number, info: ScanoutInfo | null): void {
    if (!this.sink) return;
    try {
      this.sink.scanoutChanged(scanoutId, info);
    } catch (e) {
      this.threw(e);
    }
  }

  flushed(scanoutId: number, damage: Rect): void {
    if (!this.sink) return;
    try {
      this.sink.flushed(scanoutId, damage);
    } catch (e) {
      this.threw(e);
    }
  }

  cursorChanged(cursor: CursorState): void {
    if (!this.sink) return;
    try {
      this.sink.cursorChanged(cursor);
    } catch (e) {
      this.threw(e);
    }
  }

  private threw(e: unknown): void {
    this.log.log('error', `virtio-gpu: scanout sink threw: ${String(e)}`);
  }
}
