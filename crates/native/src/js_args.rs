//! Argument checks shared by the #[napi] modules.

use crate::error::NativeError;

/// A JS number that must be a non-negative safe integer (sizes, offsets, ids).
pub fn safe_u64(value: f64, what: &str) -> Result<u64, NativeError> {
  if !(value.is_finite() && value.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&value)) {
    return Err(NativeError::invalid(format!("{what} {value} is not a safe non-negative integer")));
  }
  Ok(value as u64)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn only_safe_integers_pass() {
    assert_eq!(safe_u64(4096.0, "x").unwrap(), 4096);
    for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 2f64.powi(60)] {
      assert!(safe_u64(bad, "x").is_err(), "{bad}");
    }
  }
}
