/**
 * The guest-memory requests: SET_MEM_TABLE replaces the frontend's whole region table;
 * ADD_MEM_REG and REM_MEM_REG change one region and GET_MAX_MEM_SLOTS says how many there may
 * be, all three only with VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS. VhostMemory checks the
 * regions themselves (sizes, overlaps, the memfds); a region it refuses refuses the message.
 */
import type { Features } from './features.js';
import type { VhostMemory } from './memory.js';
import { take } from './message-fds.js';
import { fail } from './protocol-error.js';
import * as W from './wire.js';

function requireMemSlots(features: Features, request: string): void {
  if (!features.has(W.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) fail(`${request} without CONFIGURE_MEM_SLOTS`);
}

/** VHOST_USER_GET_MAX_MEM_SLOTS: the most regions the frontend may add. */
export function getMaxMemSlots(memory: VhostMemory, features: Features): number {
  requireMemSlots(features, 'GET_MAX_MEM_SLOTS');
  return memory.maxSlots;
}

/** VHOST_USER_SET_MEM_TABLE: takes every descriptor of the message, one per region. */
export function setMemTable(memory: VhostMemory, regions: W.MemoryRegionDesc[], fds: number[]): void {
  const bad = memory.setTable(regions, fds.map((_, i) => take(fds, i)));
  if (bad) fail(bad);
}

/** VHOST_USER_ADD_MEM_REG: takes the region's descriptor. */
export function addMemReg(memory: VhostMemory, features: Features, region: W.MemoryRegionDesc, fds: number[]): void {
  requireMemSlots(features, 'ADD_MEM_REG');
  const bad = memory.add(region, take(fds, 0));
  if (bad) fail(bad);
}

/** VHOST_USER_REM_MEM_REG: a descriptor sent with it (allowed for compatibility) is left to the caller to close. */
export function remMemReg(memory: VhostMemory, features: Features, region: W.MemoryRegionDesc): void {
  requireMemSlots(features, 'REM_MEM_REG');
  const bad = memory.remove(region);
  if (bad) fail(bad);
}
