import { defineConfig } from 'tsup';
import { packageBuild } from '../tsup.shared';

// A Node-only package (sockets, fds, mmap through @virtio-gpu/native).
export default defineConfig(packageBuild({ platform: 'node' }));
