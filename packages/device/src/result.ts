/**
 * Outcomes of device and renderer operations. Bad guest input is a normal result, never an
 * exception (STYLE.md "Guest input is hostile"): every failure carries the VIRTIO_GPU_RESP_ERR_*
 * code the driver will see plus a one-line reason for the (rate-limited) log.
 */
import {
  VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
  VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
  VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
  VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
  VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
  VIRTIO_GPU_RESP_ERR_UNSPEC,
} from '@virtio-gpu/protocol';

/** Any VIRTIO_GPU_RESP_ERR_* value. */
export type RespErrCode =
  | typeof VIRTIO_GPU_RESP_ERR_UNSPEC
  | typeof VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
  | typeof VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
  | typeof VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
  | typeof VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID
  | typeof VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;

/** A failed operation: the error the guest gets and why (for logs). */
export interface Failure {
  readonly ok: false;
  readonly err: RespErrCode;
  readonly why: string;
}

/** A successful operation with its value. */
export interface Success<T> {
  readonly ok: true;
  readonly value: T;
}

/** Result of a fallible operation: never an exception for guest-controlled input. */
export type Result<T = void> = Success<T> | Failure;

/** The shared success value of operations that return nothing (no allocation per call). */
export const OK: Success<void> = Object.freeze({ ok: true, value: undefined }) as Success<void>;

/** Build a success. */
export function ok<T>(value: T): Success<T> {
  return { ok: true, value };
}

/** Build a failure with the guest-visible error code and a log line. */
export function fail(err: RespErrCode, why: string): Failure {
  return { ok: false, err, why };
}

/** Shorthands for the common failures; names follow the spec's error names. */
export const errUnspec = (why: string): Failure => fail(VIRTIO_GPU_RESP_ERR_UNSPEC, why);
/** VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY */
export const errOutOfMemory = (why: string): Failure => fail(VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, why);
/** VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID */
export const errScanoutId = (why: string): Failure => fail(VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, why);
/** VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID */
export const errResourceId = (why: string): Failure => fail(VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, why);
/** VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID */
export const errContextId = (why: string): Failure => fail(VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, why);
/** VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER */
export const errParameter = (why: string): Failure => fail(VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, why);
