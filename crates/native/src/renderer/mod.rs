//! The rutabaga renderer core, without napi: two rutabaga instances and the routing between them.
//!
//! rutabaga runs one component per instance: a cross-domain instance ignores 2D transfers and a
//! 2D instance refuses cross-domain contexts. So 2D images live in a 2D instance, and contexts,
//! host blobs and guest blobs (the rings contexts attach) in a cross-domain instance when there
//! is one. Blob scanouts are read back from the guest pages or the host mapping here, not through
//! rutabaga (whose 2D transfer_read needs a scanout stride set by hand).
//!
//! Memory rule: rutabaga keeps raw pointers to guest memory from attach (and a context keeps
//! them from context-attach) until detach/unref. `destroy_resource` therefore detaches a
//! resource from every context before unref, and every release point is reported to the
//! binding, which only then lets go of the memory.

pub mod fences;
pub mod guest_iovecs;
pub mod pixels;
mod readback;
pub mod status;

use std::collections::{BTreeSet, HashMap};
use std::io::IoSliceMut;
use std::path::PathBuf;
use std::sync::Arc;

use rutabaga_gfx::{
  ResourceCreate3D, ResourceCreateBlob, Rutabaga, RutabagaBuilder, RutabagaComponentType, RutabagaFence, RutabagaPath,
  Transfer3D, RUTABAGA_BLOB_MEM_GUEST, RUTABAGA_BLOB_MEM_HOST3D, RUTABAGA_CAPSET_CROSS_DOMAIN, RUTABAGA_FLAG_FENCE,
  RUTABAGA_FLAG_INFO_RING_IDX, RUTABAGA_PATH_TYPE_WAYLAND, RUTABAGA_PIPE_BIND_RENDER_TARGET, RUTABAGA_PIPE_TEXTURE_2D,
};

use self::fences::{FenceQueue, Retired};
use self::guest_iovecs::GuestIovecs;
use self::status::{from_rutabaga, gpu, INVALID_CONTEXT_ID, INVALID_PARAMETER, INVALID_RESOURCE_ID, UNSPEC};
use crate::error::NativeResult;

/// Largest 2D image side accepted (the device's own limit is lower; this bounds allocations).
pub const MAX_DIMENSION: u32 = 16384;
/// Cross-domain rings: 0 answers queries synchronously, 1 is the channel the worker serves.
const CROSS_DOMAIN_RINGS: u8 = 2;

/// How to build a renderer.
#[derive(Clone, Debug, Default)]
pub struct Options {
  /// Add a cross-domain instance (contexts with capset 5, host blobs).
  pub cross_domain: bool,
  /// The Wayland socket cross-domain channels connect to (CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND).
  pub wayland_socket: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
  TwoD,
  Cross,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
  Image { format: u32, width: u32, height: u32 },
  GuestBlob { size: u64 },
  HostBlob { size: u64 },
}

struct Res {
  place: Place,
  kind: Kind,
  backing: Option<GuestIovecs>,
  contexts: BTreeSet<u32>,
  /// rutabaga's mapping of a host blob (pointer, length), while mapped.
  mapping: Option<(usize, usize)>,
}

/// Layout of a blob shown on a scanout (SET_SCANOUT_BLOB plane 0).
#[derive(Clone, Copy, Debug)]
pub struct BlobLayout {
  pub format: u32,
  pub width: u32,
  pub height: u32,
  pub stride: u32,
  pub offset: u32,
}

/// RESOURCE_CREATE_BLOB arguments.
#[derive(Clone, Copy, Debug)]
pub struct BlobArgs {
  /// hdr.ctx_id (the context HOST3D blobs come from).
  pub ctx_id: u32,
  pub blob_mem: u32,
  pub blob_flags: u32,
  pub blob_id: u64,
  pub size: u64,
}

/// A 2D rectangle.
#[derive(Clone, Copy, Debug)]
pub struct Rect {
  pub x: u32,
  pub y: u32,
  pub w: u32,
  pub h: u32,
}

/// A host mapping of a blob handed to the binding.
#[derive(Clone, Copy, Debug)]
pub struct Mapping {
  pub ptr: *mut u8,
  pub len: usize,
  pub map_info: u32,
}

/// The renderer core. Not thread-safe: the binding calls it on the JS thread only.
pub struct Renderer {
  options: Options,
  twod: Rutabaga,
  cross: Option<Rutabaga>,
  fences: Arc<FenceQueue>,
  resources: HashMap<u32, Res>,
  contexts: HashMap<u32, BTreeSet<u32>>,
  scratch: Vec<u8>,
  /// Zeros rutabaga skips over in transfer windows (never written).
  zeros: Vec<u8>,
  old_zeros: Vec<Vec<u8>>,
}

fn build_2d(fences: &Arc<FenceQueue>) -> NativeResult<Rutabaga> {
  RutabagaBuilder::new(0, fences.handler())
    .set_default_component(RutabagaComponentType::Rutabaga2D)
    .build()
    .map_err(|e| from_rutabaga("building the 2D instance", e))
}

fn build_cross(options: &Options, fences: &Arc<FenceQueue>) -> NativeResult<Option<Rutabaga>> {
  if !options.cross_domain {
    return Ok(None);
  }
  if !cfg!(target_os = "linux") {
    return Err(gpu(UNSPEC, "cross-domain needs Linux (shared memory and sockets are stubs elsewhere)"));
  }
  let paths = options
    .wayland_socket
    .as_ref()
    .map(|p| vec![RutabagaPath { path: p.clone(), path_type: RUTABAGA_PATH_TYPE_WAYLAND }]);
  RutabagaBuilder::new(1 << RUTABAGA_CAPSET_CROSS_DOMAIN, fences.handler())
    .set_rutabaga_paths(paths)
    .build()
    .map(Some)
    .map_err(|e| from_rutabaga("building the cross-domain instance", e))
}

fn inside(r: Rect, width: u32, height: u32) -> bool {
  r.x.checked_add(r.w).is_some_and(|e| e <= width) && r.y.checked_add(r.h).is_some_and(|e| e <= height)
}

impl Renderer {
  /// Build the 2D instance, and the cross-domain one when asked.
  pub fn new(options: Options) -> NativeResult<Renderer> {
    let fences = FenceQueue::new();
    let twod = build_2d(&fences)?;
    let cross = build_cross(&options, &fences)?;
    Ok(Renderer { options, twod, cross, fences, resources: HashMap::new(), contexts: HashMap::new(), scratch: Vec::new(), zeros: Vec::new(), old_zeros: Vec::new() })
  }

  /// Host bytes this renderer keeps per backing run while a backing is attached: our run table,
  /// plus rutabaga's own copy when cross-domain may hold one (its blobs' runs; a 2D image's runs
  /// stay here only, so images are charged a little more than they keep under cross-domain).
  pub fn host_bytes_per_backing_run(&self) -> usize {
    let rutabaga = if self.cross.is_some() { guest_iovecs::RUTABAGA_RUN_HOST_BYTES } else { 0 };
    guest_iovecs::RUN_HOST_BYTES + rutabaga
  }

  /// The fence queue (the binding installs its waker and drains it).
  pub fn fences(&self) -> &Arc<FenceQueue> {
    &self.fences
  }

  /// (capset id, max version, max size) in GET_CAPSET_INFO order.
  pub fn capsets(&self) -> Vec<(u32, u32, u32)> {
    let Some(cross) = &self.cross else { return Vec::new() };
    (0..cross.get_num_capsets()).filter_map(|i| cross.get_capset_info(i).ok()).collect()
  }

  /// GET_CAPSET payload.
  pub fn capset(&self, id: u32, version: u32) -> NativeResult<Vec<u8>> {
    let cross = self.cross.as_ref().ok_or_else(|| gpu(INVALID_PARAMETER, "no capsets without cross-domain"))?;
    if !self.capsets().iter().any(|c| c.0 == id) {
      return Err(gpu(INVALID_PARAMETER, format!("unknown capset {id}")));
    }
    cross.get_capset(id, version).map_err(|e| from_rutabaga("GET_CAPSET", e))
  }

  fn instance(&mut self, place: Place) -> NativeResult<&mut Rutabaga> {
    match place {
      Place::TwoD => Ok(&mut self.twod),
      Place::Cross => self.cross.as_mut().ok_or_else(|| gpu(UNSPEC, "no cross-domain instance")),
    }
  }

  fn res(&self, id: u32) -> NativeResult<&Res> {
    self.resources.get(&id).ok_or_else(|| gpu(INVALID_RESOURCE_ID, format!("no resource {id}")))
  }

  /// RESOURCE_CREATE_2D in the 2D instance (every virtio 2D format: rutabaga stores bytes).
  pub fn create_2d(&mut self, id: u32, format: u32, width: u32, height: u32) -> NativeResult<()> {
    if self.resources.contains_key(&id) {
      return Err(gpu(INVALID_RESOURCE_ID, format!("resource {id} exists")));
    }
    if pixels::layout(format).is_none() {
      return Err(gpu(INVALID_PARAMETER, format!("unknown format {format}")));
    }
    if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
      return Err(gpu(INVALID_PARAMETER, format!("{width}x{height} outside 1..{MAX_DIMENSION}")));
    }
    let args = ResourceCreate3D {
      target: RUTABAGA_PIPE_TEXTURE_2D,
      format,
      bind: RUTABAGA_PIPE_BIND_RENDER_TARGET,
      width,
      height,
      depth: 1,
      array_size: 1,
      last_level: 0,
      nr_samples: 0,
      flags: 0,
    };
    self.twod.resource_create_3d(id, args).map_err(|e| from_rutabaga("RESOURCE_CREATE_2D", e))?;
    let kind = Kind::Image { format, width, height };
    self.resources.insert(id, Res { place: Place::TwoD, kind, backing: None, contexts: BTreeSet::new(), mapping: None });
    Ok(())
  }

  /// RESOURCE_CREATE_BLOB. Guest blobs go where contexts can attach them (cross-domain when
  /// present) and are created with ctx 0, as Linux does; HOST3D blobs come from a context.
  pub fn create_blob(&mut self, id: u32, blob: BlobArgs, backing: Option<GuestIovecs>) -> NativeResult<()> {
    if self.resources.contains_key(&id) {
      return Err(gpu(INVALID_RESOURCE_ID, format!("resource {id} exists")));
    }
    let BlobArgs { ctx_id, blob_mem, blob_flags, blob_id, size } = blob;
    let args = ResourceCreateBlob { blob_mem, blob_flags, blob_id, size };
    let (place, kind, rutabaga_ctx) = match blob_mem {
      RUTABAGA_BLOB_MEM_GUEST => {
        // A restored blob is created without backing; the device attaches it afterwards.
        if backing.as_ref().is_some_and(|b| (b.size() as u64) < size) {
          return Err(gpu(INVALID_PARAMETER, "blob larger than its backing"));
        }
        let place = if self.cross.is_some() { Place::Cross } else { Place::TwoD };
        (place, Kind::GuestBlob { size }, 0)
      }
      RUTABAGA_BLOB_MEM_HOST3D => {
        if self.cross.is_none() {
          return Err(gpu(INVALID_PARAMETER, "host blobs need a cross-domain context"));
        }
        if !self.contexts.contains_key(&ctx_id) {
          return Err(gpu(INVALID_CONTEXT_ID, format!("no context {ctx_id}")));
        }
        (Place::Cross, Kind::HostBlob { size }, ctx_id)
      }
      other => return Err(gpu(INVALID_PARAMETER, format!("blob_mem {other} is not supported (no 3D renderer)"))),
    };
    // Only cross-domain reads a blob's pages through rutabaga (rings); 2D blobs are read back
    // from our own runs, so rutabaga's copy of them would only cost host memory.
    let iovecs = if place == Place::Cross { backing.as_ref().map(GuestIovecs::to_rutabaga) } else { None };
    self
      .instance(place)?
      .resource_create_blob(rutabaga_ctx, id, args, iovecs, None)
      .map_err(|e| from_rutabaga("RESOURCE_CREATE_BLOB", e))?;
    self.resources.insert(id, Res { place, kind, backing, contexts: BTreeSet::new(), mapping: None });
    Ok(())
  }

  /// Free a resource: off every context first (contexts keep guest pointers), then unref.
  /// Returns true when it existed. Its guest memory is no longer referenced afterwards.
  pub fn destroy_resource(&mut self, id: u32) -> bool {
    let Some(res) = self.resources.remove(&id) else { return false };
    if let Some(cross) = self.cross.as_mut() {
      for ctx in &res.contexts {
        let _ = cross.context_detach_resource(*ctx, id);
        if let Some(set) = self.contexts.get_mut(ctx) {
          set.remove(&id);
        }
      }
    }
    if let Ok(inst) = self.instance(res.place) {
      if res.mapping.is_some() {
        let _ = inst.unmap(id);
      }
      let _ = inst.unref_resource(id);
    }
    true
  }

  /// RESOURCE_ATTACH_BACKING (and a restored blob's backing). rutabaga gets a copy of the runs
  /// only for cross-domain blobs, which it reads itself; a 2D image's runs stay here and each
  /// transfer lends rutabaga the window it reads (`transfer_to_host_2d`).
  pub fn attach_backing(&mut self, id: u32, backing: GuestIovecs) -> NativeResult<()> {
    let res = self.res(id)?;
    if res.backing.is_some() {
      return Err(gpu(UNSPEC, format!("resource {id} already has backing")));
    }
    let place = res.place;
    if place == Place::Cross {
      let iovecs = backing.to_rutabaga();
      self.instance(place)?.attach_backing(id, iovecs).map_err(|e| from_rutabaga("ATTACH_BACKING", e))?;
    }
    if let Some(res) = self.resources.get_mut(&id) {
      res.backing = Some(backing);
    }
    Ok(())
  }

  /// RESOURCE_DETACH_BACKING. Afterwards rutabaga holds no pointer into the old backing.
  pub fn detach_backing(&mut self, id: u32) {
    let Some(res) = self.resources.get_mut(&id) else { return };
    let contexts: Vec<u32> = std::mem::take(&mut res.contexts).into_iter().collect();
    let place = res.place;
    res.backing = None;
    for ctx in contexts {
      if let Some(cross) = self.cross.as_mut() {
        let _ = cross.context_detach_resource(ctx, id);
      }
      if let Some(set) = self.contexts.get_mut(&ctx) {
        set.remove(&id);
      }
    }
    if let Ok(inst) = self.instance(place) {
      let _ = inst.detach_backing(id);
    }
  }

  /// TRANSFER_TO_HOST_2D. Row h of `r` comes from backing[offset + h * stride], as the TS
  /// renderer and QEMU read it. rutabaga instead reads backing[o + y*stride + x*4 + h*stride] for
  /// a transfer offset `o`, and walks every backing run from the first one on each call. So each
  /// transfer hands rutabaga a window: `y*stride + x*4` bytes of never-read zeros, then only the
  /// guest runs the rect's rows touch, with `o = 0`. That gives Linux's offsets (and any other)
  /// their meaning and makes a small transfer cost O(pages it touches), not O(backing pages).
  pub fn transfer_to_host_2d(&mut self, id: u32, r: Rect, offset: u64) -> NativeResult<()> {
    let res = self.resources.get(&id).ok_or_else(|| gpu(INVALID_RESOURCE_ID, format!("no resource {id}")))?;
    let Kind::Image { width, height, .. } = res.kind else {
      return Err(gpu(INVALID_RESOURCE_ID, format!("resource {id} is not a 2D image")));
    };
    let Some(backing) = res.backing.as_ref() else {
      return Err(gpu(UNSPEC, format!("resource {id} has no backing")));
    };
    if !inside(r, width, height) {
      return Err(gpu(INVALID_PARAMETER, "rect outside the resource"));
    }
    if r.w == 0 || r.h == 0 {
      return Ok(());
    }
    let stride = u64::from(width) * 4;
    let end = offset
      .checked_add(u64::from(r.h - 1) * stride + u64::from(r.w) * 4)
      .ok_or_else(|| gpu(INVALID_PARAMETER, "transfer offset overflows"))?;
    if end > backing.size() as u64 {
      return Err(gpu(INVALID_PARAMETER, "transfer reads past the backing"));
    }
    // Both fit usize: end <= backing size, and skip < the image size rutabaga allocated.
    let skip = (u64::from(r.y) * stride + u64::from(r.x) * 4) as usize;
    if self.zeros.len() < skip {
      // Keep the old buffer: windows attached earlier may still name it (never read, but a
      // pointer rutabaga holds must stay valid). Untouched zero pages cost no physical memory.
      let old = std::mem::replace(&mut self.zeros, vec![0u8; skip.next_power_of_two()]);
      self.old_zeros.push(old);
    }
    let window = backing.window(offset as usize, end as usize, &self.zeros[..skip]);
    self.twod.attach_backing(id, window).map_err(|e| from_rutabaga("TRANSFER_TO_HOST_2D", e))?;
    let t = Transfer3D::new_2d(r.x, r.y, r.w, r.h, 0);
    let written = self.twod.transfer_write(0, id, t, None);
    // The window is lent for this call only: rutabaga keeps nothing of a 2D image's backing.
    let _ = self.twod.detach_backing(id);
    written.map_err(|e| from_rutabaga("TRANSFER_TO_HOST_2D", e))
  }

  /// The whole image of a 2D resource (for snapshots), as the guest wrote it.
  pub fn pixels(&mut self, id: u32) -> NativeResult<Vec<u8>> {
    let Kind::Image { width, height, .. } = self.res(id)?.kind else {
      return Err(gpu(INVALID_RESOURCE_ID, format!("resource {id} is not a 2D image")));
    };
    let mut out = vec![0u8; width as usize * height as usize * 4];
    let mut t = Transfer3D::new_2d(0, 0, width, height, 0);
    t.stride = width * 4;
    self.twod.transfer_read(0, id, t, Some(IoSliceMut::new(&mut out))).map_err(|e| from_rutabaga("read pixels", e))?;
    Ok(out)
  }

  /// Replace the whole image of a 2D resource (snapshot restore): a one-call backing over `bytes`.
  pub fn write_pixels(&mut self, id: u32, bytes: &[u8]) -> NativeResult<()> {
    let res = self.res(id)?;
    let Kind::Image { width, height, .. } = res.kind else {
      return Err(gpu(INVALID_RESOURCE_ID, format!("resource {id} is not a 2D image")));
    };
    if bytes.len() != width as usize * height as usize * 4 {
      return Err(gpu(INVALID_PARAMETER, "pixel data does not match the image size"));
    }
    let mut copy = bytes.to_vec();
    let own = GuestIovecs::new([(copy.as_mut_ptr(), copy.len())]).ok_or_else(|| gpu(UNSPEC, "size"))?;
    self.twod.attach_backing(id, own.to_rutabaga()).map_err(|e| from_rutabaga("write pixels", e))?;
    let result = self.twod.transfer_write(0, id, Transfer3D::new_2d(0, 0, width, height, 0), None);
    // Never leave rutabaga pointing at `copy`, which is freed on return.
    let _ = self.twod.detach_backing(id);
    result.map_err(|e| from_rutabaga("write pixels", e))
  }

  /// Drop every resource, context and queued fence (device reset): fresh instances.
  pub fn reset(&mut self) -> NativeResult<()> {
    // Dropping the cross-domain instance joins its workers before any memory is released.
    self.cross = None;
    self.resources.clear();
    self.contexts.clear();
    self.fences.clear();
    self.twod = build_2d(&self.fences)?;
    self.cross = build_cross(&self.options, &self.fences)?;
    Ok(())
  }

  /// Ids of live resources (the binding releases memory of the ones that disappear).
  pub fn resource_ids(&self) -> Vec<u32> {
    self.resources.keys().copied().collect()
  }

  /// Live context ids.
  pub fn context_ids(&self) -> Vec<u32> {
    self.contexts.keys().copied().collect()
  }

  /// Start a fence. Global fences retire at once (every command completed synchronously);
  /// ringed fences go to the context's cross-domain ring (0 answers at once, 1 when the channel
  /// has news). Retirement always arrives through the fence queue.
  pub fn create_fence(&mut self, fence_id: u64, ctx_id: u32, ring_idx: u8, ringed: bool) -> NativeResult<()> {
    if !ringed {
      let f = RutabagaFence { flags: RUTABAGA_FLAG_FENCE, fence_id, ctx_id, ring_idx: 0 };
      return self.twod.create_fence(f).map_err(|e| from_rutabaga("create fence", e));
    }
    if !self.contexts.contains_key(&ctx_id) {
      return Err(gpu(INVALID_CONTEXT_ID, format!("no context {ctx_id}")));
    }
    if ring_idx >= CROSS_DOMAIN_RINGS {
      return Err(gpu(INVALID_PARAMETER, format!("cross-domain has rings 0 and 1, not {ring_idx}")));
    }
    let f = RutabagaFence { flags: RUTABAGA_FLAG_FENCE | RUTABAGA_FLAG_INFO_RING_IDX, fence_id, ctx_id, ring_idx };
    self.instance(Place::Cross)?.create_fence(f).map_err(|e| from_rutabaga("create fence", e))
  }

  /// Everything retired so far, in arrival order.
  pub fn take_fences(&self) -> Vec<Retired> {
    self.fences.drain()
  }
}

mod contexts;

#[cfg(test)]
mod tests;
