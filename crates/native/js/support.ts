/**
 * What the native module can do here, for loaders and CLIs that pick a renderer or transport:
 * `nativeStatus()` never throws and names every gap (no binary, or a platform without some part).
 */
import { loadBinding } from './binding.js';

/** The native module's capabilities on this machine. */
export interface NativeStatus {
  /** A binary loaded. */
  readonly available: boolean;
  /** Why not, when `available` is false. */
  readonly reason?: string;
  /** Target triple of the loaded binary. */
  readonly target?: string;
  /** UNIX sockets with SCM_RIGHTS, eventfd, memfd, mmap, readiness (Linux only). */
  readonly fdPlumbing: boolean;
  /** rutabaga_gfx 2D renderer. */
  readonly rutabaga2d: boolean;
  /** rutabaga_gfx cross-domain (Wayland passthrough) contexts (Linux only). */
  readonly crossDomain: boolean;
  /** Optional rutabaga components compiled in (virgl_renderer, gfxstream, gbm). */
  readonly features: readonly string[];
  /** One line per missing part, for messages. */
  readonly lacks: readonly string[];
}

/** Report what this machine's native module supports (never throws). */
export function nativeStatus(): NativeStatus {
  const load = loadBinding();
  if (!load.ok) {
    return {
      available: false,
      reason: load.reason,
      fdPlumbing: false,
      rutabaga2d: false,
      crossDomain: false,
      features: [],
      lacks: [load.reason],
    };
  }
  const s = load.binding.nativeSupport();
  const lacks: string[] = [];
  if (!s.fdPlumbing) lacks.push(`fd plumbing (vhost-user transport) is Linux only; this is ${s.target}`);
  if (!s.crossDomain) lacks.push(`cross-domain contexts are Linux only; this is ${s.target}`);
  return {
    available: true,
    target: s.target,
    fdPlumbing: s.fdPlumbing,
    rutabaga2d: s.rutabaga2D,
    crossDomain: s.crossDomain,
    features: s.features,
    lacks,
  };
}
