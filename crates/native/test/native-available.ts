/**
 * Test gating: native tests run wherever a binary exists, and always in CI (where a missing
 * binary must fail, not skip). Outside CI without a binary they skip with the reason.
 */
import { describe } from 'vitest';
import { nativeStatus } from '../js/index.js';

const status = nativeStatus();

/** describe() for tests that need the fd plumbing (Linux binary). */
export const describeFd: typeof describe =
  status.fdPlumbing || process.env.CI ? describe : (describe.skip as typeof describe);

/** describe() for tests that need the rutabaga renderer. */
export const describeRenderer: typeof describe =
  status.rutabaga2d || process.env.CI ? describe : (describe.skip as typeof describe);

if (!status.available && !process.env.CI) {
  console.warn(`@virtio-gpu/native tests skipped: ${status.reason}`);
}
