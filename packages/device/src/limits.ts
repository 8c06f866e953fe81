/**
 * Host-side limits on what a guest may make the device allocate. A guest that exceeds one gets
 * an error response and nothing is allocated; the host never runs out of memory on its behalf.
 */

/** Configurable caps; every field is optional in the constructor and defaults to {@link DEFAULT_LIMITS}. */
export interface DeviceLimits {
  /** Host bytes all resources may account for together (width*height*bpp, blob sizes). */
  hostMemoryBytes: number;
  /** Most mem entries one ATTACH_BACKING or CREATE_BLOB may carry (QEMU and crosvm use 16384). */
  maxBackingEntries: number;
  /** Most live resources. */
  maxResources: number;
  /** Most live contexts. */
  maxContexts: number;
  /** Largest width or height of a 2D resource or scanout, in pixels. */
  maxDimension: number;
  /** Guest-triggerable log lines allowed per second; the rest are counted and summarised. */
  logLinesPerSecond: number;
  /**
   * Most request bytes read from one chain. Descriptors may alias the same guest buffer, so a
   * chain can be far larger than guest RAM (up to 4 GiB); only this much is read, and a command
   * that needs more (a SUBMIT_3D stream) is answered ERR_UNSPEC.
   */
  maxCommandBytes: number;
  /**
   * Most chains one turn of the queue loop answers. A guest that keeps its queues full (and
   * refills them from inside the interrupt) would otherwise keep one notify running forever and
   * starve everything else on the embedder's thread: other device instances, timers, signals.
   * Past the budget the loop yields to the event loop (setImmediate, or setTimeout 0 in a
   * browser) and goes on in a later turn.
   */
  chainsPerTurn: number;
}

/**
 * Defaults: 256 MiB of resources, 16384 entries, 16384 resources, 1024 contexts, 16384 px, 64 MiB
 * commands, 256 chains a turn (a full default ring; about 0.3 ms of failing commands here).
 */
export const DEFAULT_LIMITS: Readonly<DeviceLimits> = Object.freeze({
  hostMemoryBytes: 256 * 1024 * 1024,
  maxBackingEntries: 16384,
  maxResources: 16384,
  maxContexts: 1024,
  maxDimension: 16384,
  logLinesPerSecond: 20,
  maxCommandBytes: 64 * 1024 * 1024,
  chainsPerTurn: 256,
});

/** Fill missing fields of `partial` from {@link DEFAULT_LIMITS}. */
export function resolveLimits(partial: Partial<DeviceLimits> | undefined): DeviceLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}
