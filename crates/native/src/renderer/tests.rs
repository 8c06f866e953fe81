//! cargo tests of the renderer core against the real rutabaga_gfx (2D and, on Linux,
//! cross-domain without a compositor: INIT without channel, image requirements, host blobs).

use super::guest_iovecs::GuestIovecs;
use super::pixels::B8G8R8X8_UNORM;
use super::status::{INVALID_CONTEXT_ID, INVALID_PARAMETER, INVALID_RESOURCE_ID, UNSPEC};
use super::*;

/// Guest RAM as 4 KiB pages in shuffled order: a Linux-style scattered backing.
struct Pages {
  pages: Vec<Vec<u8>>,
}

impl Pages {
  fn new(bytes: usize, seed: u32) -> Pages {
    let n = bytes.div_ceil(4096);
    let mut pages: Vec<Vec<u8>> = (0..n).map(|_| vec![0u8; 4096]).collect();
    let mut s = seed;
    for p in &mut pages {
      for b in p.iter_mut() {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *b = (s >> 16) as u8;
      }
    }
    Pages { pages }
  }

  fn byte(&self, at: usize) -> u8 {
    self.pages[at / 4096][at % 4096]
  }

  fn iovecs(&mut self) -> GuestIovecs {
    GuestIovecs::new(self.pages.iter_mut().map(|p| (p.as_mut_ptr(), p.len()))).unwrap()
  }
}

fn rd() -> Renderer {
  Renderer::new(Options::default()).unwrap()
}

const W: u32 = 64;
const H: u32 = 32;

/// RGBA of the B8G8R8X8 pixel stored at backing offset `at`.
fn rgba_at(p: &Pages, at: usize) -> [u8; 4] {
  [p.byte(at + 2), p.byte(at + 1), p.byte(at), 255]
}

fn read_rect(r: &mut Renderer, id: u32, rect: Rect) -> Vec<u8> {
  let mut out = vec![0u8; (rect.w * rect.h * 4) as usize];
  assert!(r.readback(id, rect, &mut out, rect.w as usize * 4, None, false));
  out
}

#[test]
fn guest_style_partial_transfer_lands_where_linux_expects() {
  let mut r = rd();
  let mut pages = Pages::new((W * H * 4) as usize, 7);
  r.create_2d(1, B8G8R8X8_UNORM, W, H).unwrap();
  r.attach_backing(1, pages.iovecs()).unwrap();
  let rect = Rect { x: 5, y: 3, w: 10, h: 4 };
  let stride = (W * 4) as usize;
  // Linux: offset = y * stride + x * bpp, the rect's first byte in the linear backing.
  let offset = 3 * stride + 5 * 4;
  r.transfer_to_host_2d(1, rect, offset as u64).unwrap();
  let got = read_rect(&mut r, 1, rect);
  for h in 0..4usize {
    for x in 0..10usize {
      let want = rgba_at(&pages, offset + h * stride + x * 4);
      assert_eq!(&got[(h * 10 + x) * 4..][..4], &want, "row {h} px {x}");
    }
  }
  // Outside the rect nothing was written.
  assert_eq!(read_rect(&mut r, 1, Rect { x: 0, y: 0, w: 1, h: 1 }), vec![0, 0, 0, 255]);
}

#[test]
fn offset_below_the_rect_start_reads_rows_from_offset() {
  let mut r = rd();
  let mut pages = Pages::new((W * H * 4) as usize, 9);
  r.create_2d(1, B8G8R8X8_UNORM, W, H).unwrap();
  r.attach_backing(1, pages.iovecs()).unwrap();
  let rect = Rect { x: 7, y: 5, w: 3, h: 2 };
  r.transfer_to_host_2d(1, rect, 12).unwrap();
  let got = read_rect(&mut r, 1, rect);
  let stride = (W * 4) as usize;
  for h in 0..2usize {
    for x in 0..3usize {
      assert_eq!(&got[(h * 3 + x) * 4..][..4], &rgba_at(&pages, 12 + h * stride + x * 4));
    }
  }
  // The real backing is back in place: a full transfer still reads the guest's pages.
  r.transfer_to_host_2d(1, Rect { x: 0, y: 0, w: W, h: H }, 0).unwrap();
  assert_eq!(&read_rect(&mut r, 1, Rect { x: 1, y: 0, w: 1, h: 1 })[..], &rgba_at(&pages, 4));
}

#[test]
fn bad_transfers_get_the_right_errors() {
  let mut r = rd();
  let mut pages = Pages::new(4096, 1);
  r.create_2d(1, B8G8R8X8_UNORM, W, H).unwrap();
  let full = Rect { x: 0, y: 0, w: W, h: H };
  assert_eq!(r.transfer_to_host_2d(1, full, 0).unwrap_err().code.0, UNSPEC);
  r.attach_backing(1, pages.iovecs()).unwrap();
  assert_eq!(r.transfer_to_host_2d(1, full, 0).unwrap_err().code.0, INVALID_PARAMETER);
  assert_eq!(r.transfer_to_host_2d(1, Rect { x: 60, y: 0, w: 5, h: 1 }, 0).unwrap_err().code.0, INVALID_PARAMETER);
  assert_eq!(r.transfer_to_host_2d(1, Rect { x: 0, y: 0, w: 1, h: 1 }, u64::MAX).unwrap_err().code.0, INVALID_PARAMETER);
  assert_eq!(r.transfer_to_host_2d(2, full, 0).unwrap_err().code.0, INVALID_RESOURCE_ID);
  assert_eq!(r.attach_backing(1, pages.iovecs()).unwrap_err().code.0, UNSPEC);
}

#[test]
fn create_checks_id_format_and_size() {
  let mut r = rd();
  r.create_2d(1, B8G8R8X8_UNORM, 4, 4).unwrap();
  assert_eq!(r.create_2d(1, B8G8R8X8_UNORM, 4, 4).unwrap_err().code.0, INVALID_RESOURCE_ID);
  assert_eq!(r.create_2d(2, 99, 4, 4).unwrap_err().code.0, INVALID_PARAMETER);
  assert_eq!(r.create_2d(3, B8G8R8X8_UNORM, 0, 4).unwrap_err().code.0, INVALID_PARAMETER);
  assert_eq!(r.create_2d(4, B8G8R8X8_UNORM, MAX_DIMENSION + 1, 1).unwrap_err().code.0, INVALID_PARAMETER);
}

#[test]
fn global_fences_retire_at_once_through_the_queue() {
  let mut r = rd();
  r.create_fence(5, 0, 0, false).unwrap();
  r.create_fence(6, 0, 0, false).unwrap();
  let got: Vec<u64> = r.take_fences().iter().map(|f| f.fence_id).collect();
  assert_eq!(got, vec![5, 6]);
  assert_eq!(r.create_fence(7, 3, 0, true).unwrap_err().code.0, INVALID_CONTEXT_ID);
}

#[test]
fn pixels_round_trip_for_snapshots_and_detach_leaves_no_backing() {
  let mut r = rd();
  r.create_2d(1, B8G8R8X8_UNORM, 4, 2).unwrap();
  let img: Vec<u8> = (0..32u8).collect();
  r.write_pixels(1, &img).unwrap();
  assert_eq!(r.pixels(1).unwrap(), img);
  assert_eq!(r.write_pixels(1, &img[..8]).unwrap_err().code.0, INVALID_PARAMETER);
  // write_pixels left no backing behind: a transfer needs a real one.
  assert_eq!(r.transfer_to_host_2d(1, Rect { x: 0, y: 0, w: 1, h: 1 }, 0).unwrap_err().code.0, UNSPEC);
}

#[test]
fn guest_blob_scanout_reads_from_its_pages_under_the_layout() {
  let mut r = rd();
  let mut pages = Pages::new(3 * 4096, 3);
  let blob = BlobArgs { ctx_id: 0, blob_mem: RUTABAGA_BLOB_MEM_GUEST, blob_flags: 1, blob_id: 0, size: 3 * 4096 };
  r.create_blob(9, blob, Some(pages.iovecs())).unwrap();
  let layout = BlobLayout { format: B8G8R8X8_UNORM, width: 16, height: 8, stride: 80, offset: 100 };
  let mut out = vec![0u8; 2 * 3 * 4];
  assert!(r.readback(9, Rect { x: 1, y: 2, w: 3, h: 2 }, &mut out, 12, Some(layout), false));
  assert_eq!(&out[..4], &rgba_at(&pages, 100 + 2 * 80 + 4));
  assert_eq!(&out[12..16], &rgba_at(&pages, 100 + 3 * 80 + 4));
  assert!(!r.readback(9, Rect { x: 0, y: 0, w: 1, h: 1 }, &mut out, 4, None, false));
  let past = BlobLayout { offset: 3 * 4096 - 8, ..layout };
  assert!(!r.readback(9, Rect { x: 0, y: 0, w: 4, h: 1 }, &mut out, 16, Some(past), false));
}

#[test]
fn reset_drops_everything() {
  let mut r = rd();
  r.create_2d(1, B8G8R8X8_UNORM, 4, 4).unwrap();
  r.create_fence(1, 0, 0, false).unwrap();
  r.reset().unwrap();
  assert!(r.resource_ids().is_empty());
  assert!(r.take_fences().is_empty());
  r.create_2d(1, B8G8R8X8_UNORM, 4, 4).unwrap();
}

#[test]
fn without_cross_domain_there_are_no_contexts_or_capsets() {
  let mut r = rd();
  assert!(r.capsets().is_empty());
  assert_eq!(r.create_context(1, 5, "x").unwrap_err().code.0, UNSPEC);
  let host = BlobArgs { ctx_id: 1, blob_mem: RUTABAGA_BLOB_MEM_HOST3D, blob_flags: 1, blob_id: 1, size: 4096 };
  assert_eq!(r.create_blob(2, host, None).unwrap_err().code.0, INVALID_PARAMETER);
}

#[cfg(target_os = "linux")]
mod cross_domain {
  use super::*;

  const QUERY_RING: u32 = 100;
  const DRM_FORMAT_XRGB8888: u32 = 0x3432_5258;

  fn hdr(cmd: u8, size: u16) -> Vec<u8> {
    let mut v = vec![cmd, 0];
    v.extend_from_slice(&size.to_le_bytes());
    v.extend_from_slice(&[0; 4]);
    v
  }

  fn le(v: &mut Vec<u8>, words: &[u32]) {
    for w in words {
      v.extend_from_slice(&w.to_le_bytes());
    }
  }

  /// A context with its query ring attached and initialised without a channel.
  fn setup(pages: &mut Pages) -> Renderer {
    let mut r = Renderer::new(Options { cross_domain: true, wayland_socket: None }).unwrap();
    assert_eq!(r.capsets(), vec![(5, 0, 16)]);
    r.create_context(1, 5, "test").unwrap();
    let ring = BlobArgs { ctx_id: 0, blob_mem: RUTABAGA_BLOB_MEM_GUEST, blob_flags: 1, blob_id: 0, size: 4096 };
    r.create_blob(QUERY_RING, ring, Some(pages.iovecs())).unwrap();
    r.context_attach(1, QUERY_RING).unwrap();
    let mut init = hdr(1, 20);
    le(&mut init, &[QUERY_RING, QUERY_RING, 0]);
    r.submit(1, &init).unwrap();
    r
  }

  #[test]
  fn image_requirements_then_a_host_blob_that_maps_and_reads_back() {
    let mut pages = Pages::new(4096, 0);
    let mut r = setup(&mut pages);
    let mut req = hdr(2, 24);
    le(&mut req, &[16, 4, DRM_FORMAT_XRGB8888, 0]);
    r.submit(1, &req).unwrap();
    r.create_fence(42, 1, 0, true).unwrap();
    let f = r.take_fences();
    assert_eq!((f[0].fence_id, f[0].ctx_id, f[0].ring_idx, f[0].ringed), (42, 1, 0, true));
    // CrossDomainImageRequirements: strides[4], offsets[4], modifier, size, blob_id, map_info.
    let word = |i: usize| u32::from_le_bytes([0, 1, 2, 3].map(|k| pages.byte(i * 4 + k)));
    let (stride, size, blob_id) = (word(0), word(10), word(12));
    assert_eq!(stride, 64);
    assert!(size >= 256);
    let host = BlobArgs { ctx_id: 1, blob_mem: RUTABAGA_BLOB_MEM_HOST3D, blob_flags: 1, blob_id: u64::from(blob_id), size: u64::from(size) };
    r.create_blob(7, host, None).unwrap();
    let m = r.map_blob(7).unwrap();
    assert_eq!(m.map_info & 0x0f, 1, "cached");
    assert!(m.len >= size as usize);
    assert_eq!(r.map_blob(7).unwrap_err().code.0, INVALID_PARAMETER, "mapping twice is refused");
    // SAFETY: m.len bytes are mapped until unmap_blob below.
    unsafe { std::ptr::copy_nonoverlapping([30u8, 20, 10, 0].as_ptr(), m.ptr.add(64 + 4), 4) };
    let layout = BlobLayout { format: B8G8R8X8_UNORM, width: 16, height: 4, stride: 64, offset: 0 };
    let mut px = [0u8; 4];
    assert!(r.readback(7, Rect { x: 1, y: 1, w: 1, h: 1 }, &mut px, 4, Some(layout), false));
    assert_eq!(px, [10, 20, 30, 255]);
    r.unmap_blob(7);
    assert!(!r.is_mapped(7));
    // Unmapped, readback maps for itself and still sees the bytes (memfd-backed).
    assert!(r.readback(7, Rect { x: 1, y: 1, w: 1, h: 1 }, &mut px, 4, Some(layout), false));
    assert_eq!(px, [10, 20, 30, 255]);
    assert!(r.destroy_resource(7));
  }

  #[test]
  fn contexts_are_checked() {
    let mut pages = Pages::new(4096, 0);
    let mut r = setup(&mut pages);
    assert_eq!(r.create_context(1, 5, "dup").unwrap_err().code.0, INVALID_CONTEXT_ID);
    assert_eq!(r.create_context(2, 1, "virgl").unwrap_err().code.0, INVALID_PARAMETER);
    assert_eq!(r.submit(9, &[]).unwrap_err().code.0, INVALID_CONTEXT_ID);
    assert_eq!(r.create_fence(1, 1, 5, true).unwrap_err().code.0, INVALID_PARAMETER);
    assert!(r.submit(1, &hdr(99, 8)).is_err());
    // A destroyed resource is detached from its context first; the context keeps working.
    assert!(r.destroy_resource(QUERY_RING));
    r.destroy_context(1);
    assert!(r.context_ids().is_empty());
  }
}
