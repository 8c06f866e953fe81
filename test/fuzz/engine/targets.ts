/**
 * Every fuzz target: its name (also the name of its corpus and regression folders) and module.
 * A target module exports `fuzz(data)` and optionally `maxLen` and `dictionary` (protocol.ts).
 */
export const TARGETS: Readonly<Record<string, string>> = {
  decode: 'targets/decode.ts',
  'split-chain': 'targets/split-chain.ts',
  'packed-chain': 'targets/packed-chain.ts',
  'device-2d': 'targets/device-2d.ts',
  'device-3d': 'targets/device-3d.ts',
  'virtio-pci': 'targets/virtio-pci.ts',
  'vhost-user': 'targets/vhost-user.ts',
};
