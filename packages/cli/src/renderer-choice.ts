/**
 * `--renderer ts|rutabaga` for the CLI. The native package is imported only when rutabaga is
 * asked for, so the CLI (and the TypeScript default) never need a Rust build; a machine without
 * a binary gets one clear message that says why and how to build it.
 */
import type { Renderer } from '@virtio-gpu/device';

/** Renderer names the CLI accepts. */
export const RENDERER_NAMES = ['ts', 'rutabaga'] as const;
/** One of {@link RENDERER_NAMES}. */
export type RendererName = (typeof RENDERER_NAMES)[number];

/** A loaded renderer and what the rig must give it. */
export interface RendererChoice {
  /** undefined: the device's own TypeScript renderer. */
  readonly renderer: Renderer | undefined;
  /** rutabaga keeps raw pointers into guest RAM, which must then be a SharedArrayBuffer. */
  readonly sharedRam: boolean;
}

/**
 * A factory of renderer `name` (undefined: the device's own TypeScript renderer); a string is the
 * error message for the user. One renderer per device: `serve` builds a fresh one per connection.
 */
export async function loadRendererFactory(name: string): Promise<(() => Renderer) | undefined | string> {
  if (name === 'ts') return undefined;
  if (name !== 'rutabaga') return `unknown renderer '${name}' (one of: ${RENDERER_NAMES.join(', ')})`;
  let native: typeof import('@virtio-gpu/native');
  try {
    native = await import('@virtio-gpu/native');
  } catch (e) {
    return `--renderer rutabaga needs @virtio-gpu/native, which did not load: ${(e as Error).message}`;
  }
  const status = native.nativeStatus();
  if (!status.available) return `--renderer rutabaga is not available on ${process.platform}-${process.arch}: ${status.reason}`;
  return () => new native.RutabagaRenderer();
}

/** Load renderer `name`; a string is the error message for the user. */
export async function loadRenderer(name: string): Promise<RendererChoice | string> {
  const factory = await loadRendererFactory(name);
  if (typeof factory === 'string') return factory;
  return factory ? { renderer: factory(), sharedRam: true } : { renderer: undefined, sharedRam: false };
}
