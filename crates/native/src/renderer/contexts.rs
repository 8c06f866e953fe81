//! Contexts, SUBMIT_3D and host-blob mappings of the renderer core (cross-domain only).

use std::collections::BTreeSet;

use rutabaga_gfx::RUTABAGA_CAPSET_CROSS_DOMAIN;

use super::status::{from_rutabaga, gpu, INVALID_CONTEXT_ID, INVALID_PARAMETER, UNSPEC};
use super::{Kind, Mapping, Place, Renderer};
use crate::error::NativeResult;

/// Largest SUBMIT_3D stream copied out of guest memory (rutabaga parses a private copy, so the
/// guest cannot change it mid-parse).
pub const MAX_SUBMIT_BYTES: usize = 1 << 20;

impl Renderer {
  /// CTX_CREATE for capset `capset_id` (0: the default, cross-domain).
  pub fn create_context(&mut self, ctx_id: u32, capset_id: u32, name: &str) -> NativeResult<()> {
    if self.cross.is_none() {
      return Err(gpu(UNSPEC, "contexts need the cross-domain instance (Linux, crossDomain option)"));
    }
    if capset_id != 0 && capset_id != RUTABAGA_CAPSET_CROSS_DOMAIN {
      return Err(gpu(INVALID_PARAMETER, format!("capset {capset_id} is not cross-domain")));
    }
    if ctx_id == 0 || self.contexts.contains_key(&ctx_id) {
      return Err(gpu(INVALID_CONTEXT_ID, format!("context {ctx_id} is 0 or exists")));
    }
    let name = if name.is_empty() { None } else { Some(name) };
    self
      .instance(Place::Cross)?
      .create_context(ctx_id, capset_id, name)
      .map_err(|e| from_rutabaga("CTX_CREATE", e))?;
    self.contexts.insert(ctx_id, BTreeSet::new());
    Ok(())
  }

  /// CTX_DESTROY: the context (and its worker thread) goes; resources stay.
  pub fn destroy_context(&mut self, ctx_id: u32) {
    let Some(attached) = self.contexts.remove(&ctx_id) else { return };
    for id in attached {
      if let Some(res) = self.resources.get_mut(&id) {
        res.contexts.remove(&ctx_id);
      }
    }
    if let Some(cross) = self.cross.as_mut() {
      let _ = cross.destroy_context(ctx_id);
    }
  }

  /// CTX_ATTACH_RESOURCE. 2D images live in the 2D instance, which has no contexts: attaching
  /// one is accepted and changes nothing (cross-domain never reads them).
  pub fn context_attach(&mut self, ctx_id: u32, id: u32) -> NativeResult<()> {
    if !self.contexts.contains_key(&ctx_id) {
      return Err(gpu(INVALID_CONTEXT_ID, format!("no context {ctx_id}")));
    }
    let res = self.res(id)?;
    if res.place != Place::Cross || res.contexts.contains(&ctx_id) {
      return Ok(());
    }
    self
      .instance(Place::Cross)?
      .context_attach_resource(ctx_id, id)
      .map_err(|e| from_rutabaga("CTX_ATTACH_RESOURCE", e))?;
    if let Some(r) = self.resources.get_mut(&id) {
      r.contexts.insert(ctx_id);
    }
    if let Some(set) = self.contexts.get_mut(&ctx_id) {
      set.insert(id);
    }
    Ok(())
  }

  /// CTX_DETACH_RESOURCE.
  pub fn context_detach(&mut self, ctx_id: u32, id: u32) -> NativeResult<()> {
    if !self.contexts.contains_key(&ctx_id) {
      return Err(gpu(INVALID_CONTEXT_ID, format!("no context {ctx_id}")));
    }
    let res = self.res(id)?;
    if !res.contexts.contains(&ctx_id) {
      return Ok(());
    }
    self
      .instance(Place::Cross)?
      .context_detach_resource(ctx_id, id)
      .map_err(|e| from_rutabaga("CTX_DETACH_RESOURCE", e))?;
    if let Some(r) = self.resources.get_mut(&id) {
      r.contexts.remove(&ctx_id);
    }
    if let Some(set) = self.contexts.get_mut(&ctx_id) {
      set.remove(&id);
    }
    Ok(())
  }

  /// SUBMIT_3D: a private copy of the command stream goes to the context.
  pub fn submit(&mut self, ctx_id: u32, commands: &[u8]) -> NativeResult<()> {
    if !self.contexts.contains_key(&ctx_id) {
      return Err(gpu(INVALID_CONTEXT_ID, format!("no context {ctx_id}")));
    }
    if commands.len() > MAX_SUBMIT_BYTES {
      return Err(gpu(INVALID_PARAMETER, format!("{} command bytes > {MAX_SUBMIT_BYTES}", commands.len())));
    }
    let mut copy = commands.to_vec();
    self.instance(Place::Cross)?.submit_command(ctx_id, &mut copy, &[]).map_err(|e| from_rutabaga("SUBMIT_3D", e))
  }

  /// Map a host blob (memfd-backed under cross-domain). Mapping twice is refused: rutabaga would
  /// drop the first mapping while a view of it may still exist.
  pub fn map_blob(&mut self, id: u32) -> NativeResult<Mapping> {
    let res = self.res(id)?;
    let Kind::HostBlob { size } = res.kind else {
      return Err(gpu(INVALID_PARAMETER, format!("resource {id} is not a host blob (guest blobs map their guest pages)")));
    };
    if res.mapping.is_some() {
      return Err(gpu(INVALID_PARAMETER, format!("resource {id} is already mapped")));
    }
    let cross = self.instance(Place::Cross)?;
    let map_info = cross.map_info(id).map_err(|e| from_rutabaga("MAP_BLOB", e))?;
    let m = cross.map(id).map_err(|e| from_rutabaga("MAP_BLOB", e))?;
    let (ptr, len) = (m.ptr as usize, m.size as usize);
    if ptr == 0 || (len as u64) < size {
      let _ = cross.unmap(id);
      return Err(gpu(UNSPEC, "rutabaga returned a mapping smaller than the blob"));
    }
    if let Some(r) = self.resources.get_mut(&id) {
      r.mapping = Some((ptr, len));
    }
    Ok(Mapping { ptr: ptr as *mut u8, len, map_info })
  }

  /// Release a host blob's mapping. The binding has made every JS view of it unusable first.
  pub fn unmap_blob(&mut self, id: u32) {
    let Some(res) = self.resources.get_mut(&id) else { return };
    if res.mapping.take().is_some() {
      if let Some(cross) = self.cross.as_mut() {
        let _ = cross.unmap(id);
      }
    }
  }

  /// True when resource `id` is a mapped host blob.
  pub fn is_mapped(&self, id: u32) -> bool {
    self.resources.get(&id).is_some_and(|r| r.mapping.is_some())
  }
}
