//! Reading a fuzz input as a stream of little-endian numbers; past the end every read is 0, so
//! any input (even an empty one) is a complete program for a target. Each target uses a part.
#![allow(dead_code)]

pub struct Input<'a> {
  data: &'a [u8],
}

impl<'a> Input<'a> {
  pub fn new(data: &'a [u8]) -> Self {
    Input { data }
  }

  pub fn is_empty(&self) -> bool {
    self.data.is_empty()
  }

  pub fn bytes(&mut self, n: usize) -> &'a [u8] {
    let n = n.min(self.data.len());
    let (head, tail) = self.data.split_at(n);
    self.data = tail;
    head
  }

  fn le<const N: usize>(&mut self) -> [u8; N] {
    let mut out = [0u8; N];
    let b = self.bytes(N);
    out[..b.len()].copy_from_slice(b);
    out
  }

  pub fn u8(&mut self) -> u8 {
    self.le::<1>()[0]
  }

  pub fn u16(&mut self) -> u16 {
    u16::from_le_bytes(self.le())
  }

  pub fn u64(&mut self) -> u64 {
    u64::from_le_bytes(self.le())
  }

  /// A small number (u16) or, when `wide`, any u64: hostile values near 2^64 and small ones
  /// near the interesting boundaries, both reachable.
  pub fn size(&mut self, wide: bool) -> u64 {
    if wide { self.u64() } else { u64::from(self.u16()) }
  }
}
