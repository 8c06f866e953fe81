//! Readback to RGBA8 for scanouts and the cursor: 2D images through rutabaga's transfer_read,
//! blobs straight from their guest pages or host mapping under the scanout layout.

use std::io::IoSliceMut;

use rutabaga_gfx::Transfer3D;

use super::pixels::{self, Layout};
use super::{inside, BlobLayout, Kind, Place, Rect, Renderer};

impl Renderer {
  /// Read `r` as RGBA8 into `dst`, rows `dst_stride` apart; with `opaque`, every alpha is 255
  /// (in the same pass: a display's opaque surface needs no second one). False when the
  /// resource cannot be read (missing, rect outside, no layout for a blob, a blob range outside
  /// its memory).
  pub fn readback(&mut self, id: u32, r: Rect, dst: &mut [u8], dst_stride: usize, layout: Option<BlobLayout>, opaque: bool) -> bool {
    let Some(res) = self.resources.get(&id) else { return false };
    if r.w == 0 || r.h == 0 {
      return true;
    }
    let row_bytes = r.w as usize * 4;
    let need = (r.h as usize - 1).checked_mul(dst_stride).and_then(|n| n.checked_add(row_bytes));
    if need.is_none_or(|n| n > dst.len()) || dst_stride < row_bytes {
      return false;
    }
    match res.kind {
      Kind::Image { format, width, height } => self.read_image(id, format, width, height, r, dst, dst_stride, opaque),
      Kind::GuestBlob { size } | Kind::HostBlob { size } => {
        let Some(l) = layout else { return false };
        self.read_blob(id, size, l, r, dst, dst_stride, opaque)
      }
    }
  }

  #[allow(clippy::too_many_arguments)]
  fn read_image(&mut self, id: u32, format: u32, width: u32, height: u32, r: Rect, dst: &mut [u8], dst_stride: usize, opaque: bool) -> bool {
    let Some(l) = pixels::read_layout(format, opaque) else { return false };
    if !inside(r, width, height) {
      return false;
    }
    // transfer_read writes the rect at its place in an image-shaped buffer (rows `stride` apart).
    let stride = width as usize * 4;
    let need = (r.y + r.h) as usize * stride;
    if self.scratch.len() < need {
      self.scratch.resize(need, 0);
    }
    let mut t = Transfer3D::new_2d(r.x, r.y, r.w, r.h, 0);
    t.stride = width * 4;
    let scratch = &mut self.scratch[..need];
    if self.twod.transfer_read(0, id, t, Some(IoSliceMut::new(scratch))).is_err() {
      return false;
    }
    let row_bytes = r.w as usize * 4;
    for h in 0..r.h as usize {
      let src = (r.y as usize + h) * stride + r.x as usize * 4;
      let d = h * dst_stride;
      pixels::row_to_rgba(l, &self.scratch[src..src + row_bytes], &mut dst[d..d + row_bytes]);
    }
    true
  }

  #[allow(clippy::too_many_arguments)]
  fn read_blob(&mut self, id: u32, size: u64, layout: BlobLayout, r: Rect, dst: &mut [u8], dst_stride: usize, opaque: bool) -> bool {
    let Some(l) = pixels::read_layout(layout.format, opaque) else { return false };
    if !inside(r, layout.width, layout.height) {
      return false;
    }
    let row_bytes = r.w as usize * 4;
    let mut temp_map = false;
    let source = {
      let Some(res) = self.resources.get(&id) else { return false };
      match (res.kind, res.mapping, res.backing.is_some()) {
        (Kind::GuestBlob { .. }, _, true) => Source::Guest,
        (Kind::HostBlob { .. }, Some((p, n)), _) => Source::Host(p, n),
        (Kind::HostBlob { .. }, None, _) if res.place == Place::Cross => match self.cross.as_mut().map(|c| c.map(id)) {
          Some(Ok(m)) => {
            temp_map = true;
            Source::Host(m.ptr as usize, m.size as usize)
          }
          _ => return false,
        },
        _ => return false,
      }
    };
    let ok = (0..r.h as usize).all(|h| {
      let src = u64::from(layout.offset) + (u64::from(r.y) + h as u64) * u64::from(layout.stride) + u64::from(r.x) * 4;
      if src + row_bytes as u64 > size {
        return false;
      }
      let d = h * dst_stride;
      copy_row(self, id, source, src as usize, row_bytes, l, &mut dst[d..d + row_bytes])
    });
    if temp_map {
      if let Some(c) = self.cross.as_mut() {
        let _ = c.unmap(id);
      }
    }
    ok
  }
}

#[derive(Clone, Copy)]
enum Source {
  Guest,
  Host(usize, usize),
}

fn copy_row(rd: &mut Renderer, id: u32, source: Source, src: usize, n: usize, l: Layout, dst: &mut [u8]) -> bool {
  if rd.scratch.len() < n {
    rd.scratch.resize(n, 0);
  }
  let row = &mut rd.scratch[..n];
  match source {
    Source::Guest => {
      let Some(b) = rd.resources.get(&id).and_then(|r| r.backing.as_ref()) else { return false };
      if !b.copy_out(src, row) {
        return false;
      }
    }
    Source::Host(p, len) => {
      if src.checked_add(n).is_none_or(|e| e > len) {
        return false;
      }
      // SAFETY: [src, src+n) is inside rutabaga's live mapping of `len` bytes (checked above);
      // the mapping stays until unmap/unref, which cannot run during this call.
      unsafe { std::ptr::copy_nonoverlapping((p as *const u8).add(src), row.as_mut_ptr(), n) };
    }
  }
  pixels::row_to_rgba(l, &rd.scratch[..n], dst);
  true
}
