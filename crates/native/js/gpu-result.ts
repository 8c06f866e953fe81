/**
 * Results in the device's `Result` shape, built here because the native package imports the
 * device for types only. Native errors with a GPU code (`ERR_GPU_INVALID_PARAMETER`, ...) are
 * guest-visible failures; any other native error is a host problem and is rethrown (the device
 * logs it and answers ERR_UNSPEC).
 */
import type { Failure, RespErrCode, Result, Success } from '@virtio-gpu/device';
import {
  VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
  VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
  VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
  VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
  VIRTIO_GPU_RESP_ERR_UNSPEC,
} from '@virtio-gpu/protocol';

/** The shared success of operations that return nothing. */
export const OK: Success<void> = Object.freeze({ ok: true, value: undefined }) as Success<void>;

/** A success carrying `value`. */
export const ok = <T>(value: T): Success<T> => ({ ok: true, value });

/** A failure the guest sees as `err`. */
export const fail = (err: RespErrCode, why: string): Failure => ({ ok: false, err, why });

/** ERR_UNSPEC with a reason. */
export const unspec = (why: string): Failure => fail(VIRTIO_GPU_RESP_ERR_UNSPEC, why);

const BY_CODE: Record<string, RespErrCode> = {
  ERR_GPU_UNSPEC: VIRTIO_GPU_RESP_ERR_UNSPEC,
  ERR_GPU_OUT_OF_MEMORY: VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
  ERR_GPU_INVALID_RESOURCE_ID: VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
  ERR_GPU_INVALID_CONTEXT_ID: VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
  ERR_GPU_INVALID_PARAMETER: VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
};

/** Turn a native GPU error into a Failure; rethrow anything else (a host bug or misconfiguration). */
export function failureOf(e: unknown): Failure {
  const code = (e as { code?: unknown })?.code;
  const err = typeof code === 'string' ? BY_CODE[code] : undefined;
  if (err === undefined) throw e;
  return fail(err, (e as Error).message);
}

/** Run a native call that returns nothing; its GPU error becomes a Failure. */
export function attempt(f: () => void): Result {
  try {
    f();
    return OK;
  } catch (e) {
    return failureOf(e);
  }
}
