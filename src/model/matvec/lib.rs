//! The live model step's numerical kernels: `out += W x` for an f32 row-major `W`, with
//! faer (runtime SIMD dispatch, no allocation for a matrix-vector product), and the LSTM
//! cell update, vectorised the same way ([`lstm_cell`]).
//!
//! Why a crate of its own: faer's and pulp's kernels are generic, so they are compiled in
//! the crate that calls them, with that crate's optimisation level. Called from `emotrace`
//! itself, debug builds (tests, `scripts/screenshot`) compiled them unoptimised and one
//! step of the shipped three-network model took ~70 ms instead of ~0.1 ms, slower than
//! real time. Here they are compiled once, optimised even in debug builds (the root
//! `Cargo.toml`'s `[profile.dev.package.emotrace-matvec]`), behind non-generic functions.

mod lstm_cell;

pub use lstm_cell::lstm_cell;

use faer::{Accum, MatMut, MatRef, Par};

/// `out += weight · x`, where `weight` holds `out.len()` rows of `x.len()` values each,
/// row after row (libtorch's layout of a layer's `weight`), on the calling thread.
///
/// # Panics
/// If `weight.len() != out.len() * x.len()`.
pub fn multiply_add(weight: &[f32], x: &[f32], out: &mut [f32]) {
    let (rows, cols) = (out.len(), x.len());
    assert_eq!(weight.len(), rows * cols, "weight is not {rows} x {cols}");
    let weight = MatRef::from_row_major_slice(weight, rows, cols);
    let x = MatRef::from_column_major_slice(x, cols, 1);
    let out = MatMut::from_column_major_slice_mut(out, rows, 1);
    faer::linalg::matmul::matmul(out, Accum::Add, weight, x, 1.0f32, Par::Seq);
}

/// The sum of `values`, vectorised like the products: one pass that only reads, the
/// floor under any product over the same values (`emotrace bench` times it).
pub fn sum(values: &[f32]) -> f32 {
    pulp::Arch::new().dispatch(|| {
        // Four AVX registers of partial sums, so the adds' latency does not bound the reads.
        let mut lanes = [0.0f32; 32];
        let chunks = values.chunks_exact(lanes.len());
        let tail: f32 = chunks.remainder().iter().sum();
        for chunk in chunks {
            lanes.iter_mut().zip(chunk).for_each(|(lane, v)| *lane += v);
        }
        lanes.iter().sum::<f32>() + tail
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A product is added to what `out` held, row by row.
    #[test]
    fn adds_the_product_row_by_row() {
        let mut out = [1.0, -1.0];
        multiply_add(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1.0, 0.5, -1.0], &mut out);
        assert_eq!(out, [1.0 + 1.0 + 1.0 - 3.0, -1.0 + 4.0 + 2.5 - 6.0]);
    }

    /// Whole lanes and the tail are both counted.
    #[test]
    fn sums_every_value() {
        let values: Vec<f32> = (1..=37).map(|k| k as f32).collect();
        assert_eq!(sum(&values), 703.0);
    }
}
