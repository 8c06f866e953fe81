/**
 * virtio-gpu constants under their C names (virtio spec 1.3 §5.7, linux/virtio_gpu.h).
 *
 * Every value here is pinned against the system's <linux/virtio_gpu.h> by header-oracle.test.ts;
 * the few that the Linux header lacks (rutabaga capset ids) are listed there as known extras.
 */

// ---- Feature bits (spec §5.7.3) ----

/** Feature bit: 3D mode (virgl) is supported; enables the CTX_* and *_3D commands. */
export const VIRTIO_GPU_F_VIRGL = 0;
/** Feature bit: EDID is supported (VIRTIO_GPU_CMD_GET_EDID). */
export const VIRTIO_GPU_F_EDID = 1;
/** Feature bit: assigning resources UUIDs for export to other virtio devices is supported. */
export const VIRTIO_GPU_F_RESOURCE_UUID = 2;
/** Feature bit: creating and using size-based blob resources is supported. */
export const VIRTIO_GPU_F_RESOURCE_BLOB = 3;
/** Feature bit: multiple context types and synchronization timelines (context_init, ring_idx). */
export const VIRTIO_GPU_F_CONTEXT_INIT = 4;

// ---- enum virtio_gpu_ctrl_type (spec §5.7.6.7) ----

/** Not a valid command or response type. */
export const VIRTIO_GPU_UNDEFINED = 0;

/** 2D command: ask for the current output configuration. */
export const VIRTIO_GPU_CMD_GET_DISPLAY_INFO = 0x0100;
/** 2D command: create a 2D resource with a format on the host. */
export const VIRTIO_GPU_CMD_RESOURCE_CREATE_2D = 0x0101;
/** 2D command: destroy a resource. */
export const VIRTIO_GPU_CMD_RESOURCE_UNREF = 0x0102;
/** 2D command: set the scanout parameters for a single output. */
export const VIRTIO_GPU_CMD_SET_SCANOUT = 0x0103;
/** 2D command: flush a scanout resource to the screen. */
export const VIRTIO_GPU_CMD_RESOURCE_FLUSH = 0x0104;
/** 2D command: transfer from guest memory to a host resource. */
export const VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D = 0x0105;
/** 2D command: attach guest pages as the backing store of a resource. */
export const VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING = 0x0106;
/** 2D command: detach the backing pages from a resource. */
export const VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING = 0x0107;
/** Command: get information about a capability set (by index). */
export const VIRTIO_GPU_CMD_GET_CAPSET_INFO = 0x0108;
/** Command: get a capability set (by id and version). */
export const VIRTIO_GPU_CMD_GET_CAPSET = 0x0109;
/** Command: get the EDID of a scanout (needs VIRTIO_GPU_F_EDID). */
export const VIRTIO_GPU_CMD_GET_EDID = 0x010a;
/** Command: assign a UUID to a resource (needs VIRTIO_GPU_F_RESOURCE_UUID). */
export const VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID = 0x010b;
/** Command: create a blob resource (needs VIRTIO_GPU_F_RESOURCE_BLOB). */
export const VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB = 0x010c;
/** Command: set a scanout to a blob resource with an explicit format and layout. */
export const VIRTIO_GPU_CMD_SET_SCANOUT_BLOB = 0x010d;

/** 3D command: create a rendering context. */
export const VIRTIO_GPU_CMD_CTX_CREATE = 0x0200;
/** 3D command: destroy a rendering context. */
export const VIRTIO_GPU_CMD_CTX_DESTROY = 0x0201;
/** 3D command: make a resource usable from a context. */
export const VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE = 0x0202;
/** 3D command: stop a resource being usable from a context. */
export const VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE = 0x0203;
/** 3D command: create a 3D resource. */
export const VIRTIO_GPU_CMD_RESOURCE_CREATE_3D = 0x0204;
/** 3D command: transfer a box from guest memory to a host 3D resource. */
export const VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D = 0x0205;
/** 3D command: transfer a box from a host 3D resource to guest memory. */
export const VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D = 0x0206;
/** 3D command: submit an opaque command stream to a context. */
export const VIRTIO_GPU_CMD_SUBMIT_3D = 0x0207;
/** Command: map a host blob resource into the host-visible shared memory region. */
export const VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB = 0x0208;
/** Command: unmap a blob resource from the host-visible shared memory region. */
export const VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB = 0x0209;

/** Cursor queue command: set the cursor image and position. */
export const VIRTIO_GPU_CMD_UPDATE_CURSOR = 0x0300;
/** Cursor queue command: move the cursor only. */
export const VIRTIO_GPU_CMD_MOVE_CURSOR = 0x0301;

/** Success response without data. */
export const VIRTIO_GPU_RESP_OK_NODATA = 0x1100;
/** Success response to GET_DISPLAY_INFO. */
export const VIRTIO_GPU_RESP_OK_DISPLAY_INFO = 0x1101;
/** Success response to GET_CAPSET_INFO. */
export const VIRTIO_GPU_RESP_OK_CAPSET_INFO = 0x1102;
/** Success response to GET_CAPSET. */
export const VIRTIO_GPU_RESP_OK_CAPSET = 0x1103;
/** Success response to GET_EDID. */
export const VIRTIO_GPU_RESP_OK_EDID = 0x1104;
/** Success response to RESOURCE_ASSIGN_UUID. */
export const VIRTIO_GPU_RESP_OK_RESOURCE_UUID = 0x1105;
/** Success response to RESOURCE_MAP_BLOB. */
export const VIRTIO_GPU_RESP_OK_MAP_INFO = 0x1106;

/** Error response: unspecified failure. */
export const VIRTIO_GPU_RESP_ERR_UNSPEC = 0x1200;
/** Error response: the host is out of memory. */
export const VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY = 0x1201;
/** Error response: no such scanout. */
export const VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID = 0x1202;
/** Error response: no such resource. */
export const VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID = 0x1203;
/** Error response: no such context. */
export const VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID = 0x1204;
/** Error response: some other parameter is invalid. */
export const VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER = 0x1205;

// ---- enum virtio_gpu_shm_id (spec §5.7.5) ----

/** Shared memory region id: not used. */
export const VIRTIO_GPU_SHM_ID_UNDEFINED = 0;
/** Shared memory region id of the host-visible region that MAP_BLOB maps into. */
export const VIRTIO_GPU_SHM_ID_HOST_VISIBLE = 1;

// ---- struct virtio_gpu_ctrl_hdr flags (spec §5.7.6.7) ----

/** hdr.flags: the driver wants a fence; the device answers only when the work is done. */
export const VIRTIO_GPU_FLAG_FENCE = 1 << 0;
/** hdr.flags: hdr.ring_idx names the context's timeline for the fence (needs CONTEXT_INIT). */
export const VIRTIO_GPU_FLAG_INFO_RING_IDX = 1 << 1;

// ---- Scanouts, resources, contexts ----

/** Number of pmodes in RESP_OK_DISPLAY_INFO, and the most scanouts a device can have. */
export const VIRTIO_GPU_MAX_SCANOUTS = 16;
/** resource_create_3d.flags: row 0 is the top row (not the bottom, as GL would have it). */
export const VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP = 1 << 0;
/** ctx_create.context_init: the bits that hold the capset id of the context type. */
export const VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK = 0x000000ff;
/** Longest debug_name the spec allows in CTX_CREATE (char debug_name[64]). */
export const CTX_DEBUG_NAME_MAX = 64;
/** Bytes of EDID data a RESP_OK_EDID can hold (__u8 edid[1024]). */
export const EDID_MAX = 1024;
/** Width and height of the cursor image UPDATE_CURSOR names (spec §5.7.6.10: 64x64 pixels). */
export const CURSOR_SIZE = 64;

// ---- Virtqueues (spec §5.7.2) ----

/** Index of controlq, the queue of every command except the cursor's. */
export const CONTROLQ = 0;
/** Index of cursorq, the queue of UPDATE_CURSOR and MOVE_CURSOR. */
export const CURSORQ = 1;

// ---- Capability set ids (spec §5.7.6.8 GET_CAPSET_INFO; Linux/rutabaga) ----

/** Capset id: virgl (version 1). */
export const VIRTIO_GPU_CAPSET_VIRGL = 1;
/** Capset id: virgl2. */
export const VIRTIO_GPU_CAPSET_VIRGL2 = 2;
/** Capset id: gfxstream Vulkan (in newer Linux headers; not in every linux-libc-dev). */
export const VIRTIO_GPU_CAPSET_GFXSTREAM_VULKAN = 3;
/** Capset id: Venus (Vulkan over virtio-gpu; newer Linux headers). */
export const VIRTIO_GPU_CAPSET_VENUS = 4;
/** Capset id: cross-domain (Wayland/window-system passthrough; newer Linux headers). */
export const VIRTIO_GPU_CAPSET_CROSS_DOMAIN = 5;
/** Capset id: native DRM context (newer Linux headers). */
export const VIRTIO_GPU_CAPSET_DRM = 6;
/** Capset id: gfxstream Magma. A rutabaga_gfx extension, not in the Linux header. */
export const VIRTIO_GPU_CAPSET_GFXSTREAM_MAGMA = 7;
/** Capset id: gfxstream GLES. A rutabaga_gfx extension, not in the Linux header. */
export const VIRTIO_GPU_CAPSET_GFXSTREAM_GLES = 8;
/** Capset id: gfxstream composer. A rutabaga_gfx extension, not in the Linux header. */
export const VIRTIO_GPU_CAPSET_GFXSTREAM_COMPOSER = 9;

// ---- Device configuration (spec §5.7.4) ----

/** virtio_gpu_config.events_read bit: the display configuration changed; re-query it. */
export const VIRTIO_GPU_EVENT_DISPLAY = 1 << 0;

// ---- enum virtio_gpu_formats (spec §5.7.6.8, "simple formats for fbcon/X use") ----

/** Format: bytes B, G, R, A in memory. */
export const VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM = 1;
/** Format: bytes B, G, R, X in memory. */
export const VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM = 2;
/** Format: bytes A, R, G, B in memory. */
export const VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM = 3;
/** Format: bytes X, R, G, B in memory. */
export const VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM = 4;
/** Format: bytes R, G, B, A in memory. */
export const VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM = 67;
/** Format: bytes X, B, G, R in memory. */
export const VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM = 68;
/** Format: bytes A, B, G, R in memory. */
export const VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM = 121;
/** Format: bytes R, G, B, X in memory. */
export const VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM = 134;

// ---- Blobs (spec §5.7.6.8 RESOURCE_CREATE_BLOB, RESOURCE_MAP_BLOB) ----

/** blob_mem: the blob lives in guest memory only (backing pages follow the command). */
export const VIRTIO_GPU_BLOB_MEM_GUEST = 0x0001;
/** blob_mem: the blob lives in host memory, created by a 3D context (blob_id names it). */
export const VIRTIO_GPU_BLOB_MEM_HOST3D = 0x0002;
/** blob_mem: host 3D blob that also has guest backing pages. */
export const VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST = 0x0003;
/** blob_flags: the guest wants to map the blob (RESOURCE_MAP_BLOB). */
export const VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE = 0x0001;
/** blob_flags: the blob may be shared with other processes/devices. */
export const VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE = 0x0002;
/** blob_flags: the blob may be shared with other virtio devices. */
export const VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE = 0x0004;
/** resp_map_info.map_info: the bits that hold the caching type. */
export const VIRTIO_GPU_MAP_CACHE_MASK = 0x0f;
/** map_info caching: none/unknown. */
export const VIRTIO_GPU_MAP_CACHE_NONE = 0x00;
/** map_info caching: cached. */
export const VIRTIO_GPU_MAP_CACHE_CACHED = 0x01;
/** map_info caching: uncached. */
export const VIRTIO_GPU_MAP_CACHE_UNCACHED = 0x02;
/** map_info caching: write-combined. */
export const VIRTIO_GPU_MAP_CACHE_WC = 0x03;

// ---- Name lookups ----

const COMMAND_NAMES: Readonly<Record<number, string>> = {
  [VIRTIO_GPU_CMD_GET_DISPLAY_INFO]: 'VIRTIO_GPU_CMD_GET_DISPLAY_INFO',
  [VIRTIO_GPU_CMD_RESOURCE_CREATE_2D]: 'VIRTIO_GPU_CMD_RESOURCE_CREATE_2D',
  [VIRTIO_GPU_CMD_RESOURCE_UNREF]: 'VIRTIO_GPU_CMD_RESOURCE_UNREF',
  [VIRTIO_GPU_CMD_SET_SCANOUT]: 'VIRTIO_GPU_CMD_SET_SCANOUT',
  [VIRTIO_GPU_CMD_RESOURCE_FLUSH]: 'VIRTIO_GPU_CMD_RESOURCE_FLUSH',
  [VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D]: 'VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D',
  [VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING]: 'VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING',
  [VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING]: 'VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING',
  [VIRTIO_GPU_CMD_GET_CAPSET_INFO]: 'VIRTIO_GPU_CMD_GET_CAPSET_INFO',
  [VIRTIO_GPU_CMD_GET_CAPSET]: 'VIRTIO_GPU_CMD_GET_CAPSET',
  [VIRTIO_GPU_CMD_GET_EDID]: 'VIRTIO_GPU_CMD_GET_EDID',
  [VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID]: 'VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID',
  [VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB]: 'VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB',
  [VIRTIO_GPU_CMD_SET_SCANOUT_BLOB]: 'VIRTIO_GPU_CMD_SET_SCANOUT_BLOB',
  [VIRTIO_GPU_CMD_CTX_CREATE]: 'VIRTIO_GPU_CMD_CTX_CREATE',
  [VIRTIO_GPU_CMD_CTX_DESTROY]: 'VIRTIO_GPU_CMD_CTX_DESTROY',
  [VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE]: 'VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE',
  [VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE]: 'VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE',
  [VIRTIO_GPU_CMD_RESOURCE_CREATE_3D]: 'VIRTIO_GPU_CMD_RESOURCE_CREATE_3D',
  [VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D]: 'VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D',
  [VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D]: 'VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D',
  [VIRTIO_GPU_CMD_SUBMIT_3D]: 'VIRTIO_GPU_CMD_SUBMIT_3D',
  [VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB]: 'VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB',
  [VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB]: 'VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB',
  [VIRTIO_GPU_CMD_UPDATE_CURSOR]: 'VIRTIO_GPU_CMD_UPDATE_CURSOR',
  [VIRTIO_GPU_CMD_MOVE_CURSOR]: 'VIRTIO_GPU_CMD_MOVE_CURSOR',
};

const RESPONSE_NAMES: Readonly<Record<number, string>> = {
  [VIRTIO_GPU_RESP_OK_NODATA]: 'VIRTIO_GPU_RESP_OK_NODATA',
  [VIRTIO_GPU_RESP_OK_DISPLAY_INFO]: 'VIRTIO_GPU_RESP_OK_DISPLAY_INFO',
  [VIRTIO_GPU_RESP_OK_CAPSET_INFO]: 'VIRTIO_GPU_RESP_OK_CAPSET_INFO',
  [VIRTIO_GPU_RESP_OK_CAPSET]: 'VIRTIO_GPU_RESP_OK_CAPSET',
  [VIRTIO_GPU_RESP_OK_EDID]: 'VIRTIO_GPU_RESP_OK_EDID',
  [VIRTIO_GPU_RESP_OK_RESOURCE_UUID]: 'VIRTIO_GPU_RESP_OK_RESOURCE_UUID',
  [VIRTIO_GPU_RESP_OK_MAP_INFO]: 'VIRTIO_GPU_RESP_OK_MAP_INFO',
  [VIRTIO_GPU_RESP_ERR_UNSPEC]: 'VIRTIO_GPU_RESP_ERR_UNSPEC',
  [VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY]: 'VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY',
  [VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID]: 'VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID',
  [VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID]: 'VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID',
  [VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID]: 'VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID',
  [VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER]: 'VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER',
};

const FORMAT_NAMES: Readonly<Record<number, string>> = {
  [VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM]: 'VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM',
  [VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM]: 'VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM',
  [VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM]: 'VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM',
  [VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM]: 'VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM',
  [VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM]: 'VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM',
  [VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM]: 'VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM',
  [VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM]: 'VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM',
  [VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM]: 'VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM',
};

/** All command type values, in enum order. */
export const COMMAND_TYPES: readonly number[] = Object.keys(COMMAND_NAMES).map(Number);
/** All response type values (OK and ERR), in enum order. */
export const RESPONSE_TYPES: readonly number[] = Object.keys(RESPONSE_NAMES).map(Number);
/** All `enum virtio_gpu_formats` values. */
export const FORMATS: readonly number[] = Object.keys(FORMAT_NAMES).map(Number);

/** The C name of a command type (`VIRTIO_GPU_CMD_...`), or undefined when it is not a command. */
export function commandName(type: number): string | undefined {
  return Object.hasOwn(COMMAND_NAMES, type) ? COMMAND_NAMES[type] : undefined;
}

/** The C name of a response type (`VIRTIO_GPU_RESP_...`), or undefined when it is not a response. */
export function responseName(type: number): string | undefined {
  return Object.hasOwn(RESPONSE_NAMES, type) ? RESPONSE_NAMES[type] : undefined;
}

/** The C name of a format (`VIRTIO_GPU_FORMAT_...`), or undefined for a format outside the enum. */
export function formatName(format: number): string | undefined {
  return Object.hasOwn(FORMAT_NAMES, format) ? FORMAT_NAMES[format] : undefined;
}
