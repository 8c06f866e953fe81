/**
 * Device reset (virtio 1.3 §2.4), the state part: contexts, scanouts, cursor and resources go, and
 * mapped blobs are unmapped from the host-visible region first. The renderer is reset only after
 * the region confirmed every unmap (blob.ts: never free memory the guest may still reach), so a
 * reset can finish later; {@link StateReset.reset} returns a promise of that moment.
 */
import type { Renderer } from './renderer.js';
import type { DeviceState } from './state.js';

/** Resets the shared state and, when the region allows, the renderer. */
export class StateReset {
  private rendererResetPending = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly state: DeviceState,
    private readonly renderer: Renderer,
  ) {}

  /** Whether a reset waits for the region to confirm unmaps. */
  get pending(): boolean {
    return this.rendererResetPending;
  }

  /** Frees everything; resolves once the renderer has been reset too. */
  reset(): Promise<void> {
    const s = this.state;
    s.generation++;
    for (const ctx of [...s.contexts.all()]) this.renderer.destroyContext(ctx.id);
    s.contexts.clear();
    for (let i = 0; i < s.scanouts.length; i++) {
      const sc = s.scanouts[i];
      if (sc.resourceId !== 0) {
        sc.resourceId = 0;
        sc.r = { x: 0, y: 0, width: 0, height: 0 };
        sc.layout = null;
        s.notifyScanout(i);
      }
    }
    const hadCursor = s.cursor.resourceId !== 0;
    s.cursor = { scanoutId: 0, x: 0, y: 0, hotX: 0, hotY: 0, resourceId: 0 };
    if (hadCursor) s.sink.cursorChanged({ ...s.cursor });
    for (const res of [...s.resources.all()]) {
      if (res.map) {
        s.resources.remove(res.id);
        res.dying = true;
        s.unmapBlob(res, () => {});
      }
    }
    s.resources.clear();
    s.features = 0n;
    // Modes survive a reset, but dropping the cache here keeps every path that rebuilds state safe.
    s.modesChanged();
    if (s.outstandingUnmaps === 0) {
      this.renderer.reset();
      this.rendererResetPending = false;
      return Promise.resolve();
    }
    this.rendererResetPending = true;
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The region confirmed every unmap: finish a reset that waited for it. */
  unmapsDrained(): void {
    if (!this.rendererResetPending) return;
    this.rendererResetPending = false;
    this.renderer.reset();
    for (const w of this.waiters.splice(0)) w();
  }
}
