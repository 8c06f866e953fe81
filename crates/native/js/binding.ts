/**
 * Loads the napi-rs binding through the generated (private) loader, `../binding.cjs`. A missing
 * binary is a normal state (the TypeScript renderer is the default; nobody has to build Rust), so
 * loading never throws here: callers ask {@link loadBinding} and get the reason when it failed.
 */
import { createRequire } from 'node:module';
import type * as Binding from '../binding.cjs';

/** The generated binding's exports (types from the generated `binding.d.cts`). */
export type NativeBinding = typeof Binding;

/** How loading the native module went. */
export type BindingLoad =
  | { readonly ok: true; readonly binding: NativeBinding }
  | { readonly ok: false; readonly reason: string };

/** The platform package name napi-rs would publish for this machine. */
export function platformPackageName(): string {
  const abi = process.platform === 'linux' ? '-gnu' : process.platform === 'win32' ? '-msvc' : '';
  return `@virtio-gpu/native-${process.platform}-${process.arch}${abi}`;
}

/** How to get a binary for this machine (the message every "unavailable" error carries). */
export const BUILD_HINT =
  'build it from a checkout with Rust >= 1.88 (rustup): `pnpm --filter @virtio-gpu/native build:native` ' +
  `(or install ${platformPackageName()} where published)`;

let cached: BindingLoad | undefined;

/** Load (once) and return the binding, or why it is not available on this machine. */
export function loadBinding(): BindingLoad {
  if (cached) return cached;
  try {
    const require = createRequire(import.meta.url);
    cached = { ok: true, binding: require('../binding.cjs') as NativeBinding };
  } catch (e) {
    const first = String((e as Error).message ?? e).split('\n')[0];
    // napi-rs's loader says "Cannot find native binding" (plus npm advice) when no file exists;
    // anything else is a binary that exists but failed to load, and its reason matters.
    const why = first.startsWith('Cannot find native binding') ? 'none built or installed' : first;
    cached = {
      ok: false,
      reason: `no usable @virtio-gpu/native binary for ${process.platform}-${process.arch} (${why}); ${BUILD_HINT}`,
    };
  }
  return cached;
}

/** An error with a stable `code`, like the ones the native module throws. */
export class NativeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NativeError';
  }
}

/** The binding, or a NativeError (code ERR_NATIVE_UNAVAILABLE) that says how to get one. */
export function requireBinding(): NativeBinding {
  const load = loadBinding();
  if (!load.ok) throw new NativeError('ERR_NATIVE_UNAVAILABLE', load.reason);
  return load.binding;
}

/** The binding, checked to have `feature` (fd plumbing is Linux only); throws ENOTSUP otherwise. */
export function requireFeature(feature: 'fdPlumbing' | 'crossDomain'): NativeBinding {
  const b = requireBinding();
  const support = b.nativeSupport();
  if (!support[feature]) {
    const what = feature === 'fdPlumbing' ? 'fd plumbing (SCM_RIGHTS, eventfd, memfd, epoll)' : 'cross-domain';
    throw new NativeError('ENOTSUP', `${what} is Linux only; this binary is ${support.target}`);
  }
  return b;
}
