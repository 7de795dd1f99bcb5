//! Minimal `.npy` (NumPy format 1.0) writing (whole, or a row at a time) and reading of 2-D
//! little-endian float32 matrices: enough to hand feature frames to Python and to read
//! golden files back.

use std::io::{self, Read, Seek, SeekFrom, Write};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Writes a `rows x cols` row-major f32 matrix as `.npy` version 1.0.
pub fn write_npy_f32(out: &mut impl Write, data: &[f32], rows: usize, cols: usize) -> io::Result<()> {
    if data.len() != rows * cols {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "matrix size does not match its shape"));
    }
    write_header(out, rows, cols, 0)?;
    let mut bytes = Vec::with_capacity(data.len() * 4);
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    out.write_all(&bytes)
}

/// Writes an f32 `.npy` matrix a row at a time, for matrices too long to hold: the row
/// count goes into the header when [`finish`](Self::finish) seeks back to it.
pub struct NpyRowWriter<W: Write + Seek> {
    out: W,
    cols: usize,
    rows: usize,
    bytes: Vec<u8>,
}

/// Header size of a [`NpyRowWriter`] (magic to newline), room for any row count.
const ROW_WRITER_HEADER_LEN: usize = 128;

impl<W: Write + Seek> NpyRowWriter<W> {
    /// Starts the file at `out`'s current position with a header for zero rows.
    pub fn new(mut out: W, cols: usize) -> io::Result<Self> {
        write_header(&mut out, 0, cols, ROW_WRITER_HEADER_LEN)?;
        Ok(Self { out, cols, rows: 0, bytes: Vec::with_capacity(cols * 4) })
    }

    /// Values per row.
    pub fn columns(&self) -> usize {
        self.cols
    }

    /// Appends one row of `cols` values.
    pub fn write_row(&mut self, row: &[f32]) -> io::Result<()> {
        if row.len() != self.cols {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "row length does not match the matrix"));
        }
        self.bytes.clear();
        for v in row {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.rows += 1;
        self.out.write_all(&self.bytes)
    }

    /// Writes the final row count into the header and flushes; returns the rows written.
    pub fn finish(&mut self) -> io::Result<usize> {
        let end = self.out.stream_position()?;
        let header_start = end - (ROW_WRITER_HEADER_LEN + self.rows * self.cols * 4) as u64;
        self.out.seek(SeekFrom::Start(header_start))?;
        write_header(&mut self.out, self.rows, self.cols, ROW_WRITER_HEADER_LEN)?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.rows)
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Magic, version, length and the header dictionary, space-padded so that the whole is a
/// multiple of 64 bytes and at least `min_len` long.
fn write_header(out: &mut impl Write, rows: usize, cols: usize, min_len: usize) -> io::Result<()> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.max(min_len).next_multiple_of(64) - unpadded));
    header.push('\n');
    out.write_all(MAGIC)?;
    out.write_all(&[1, 0])?;
    let len = u16::try_from(header.len()).map_err(|_| io::Error::other("npy header too long"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(header.as_bytes())
}

/// Reads a 2-D (or 1-D, as one row) little-endian f32 `.npy` file: `(data, rows, cols)`.
pub fn read_npy_f32(input: &mut impl Read) -> io::Result<(Vec<f32>, usize, usize)> {
    let bad =
        |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("not a float32 .npy matrix: {what}"));
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("no NUMPY magic"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        _ => return Err(bad("unknown version")),
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| bad("short header"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    if !header.contains("'descr': '<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("dtype must be '<f4' in C order"));
    }
    let shape =
        header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad("shape"))?;
    let (rows, cols) = match dims[..] {
        [n] => (1, n),
        [r, c] => (r, c),
        _ => return Err(bad("not 1-D or 2-D")),
    };
    let payload = &bytes[start + header_len..];
    if payload.len() != rows * cols * 4 {
        return Err(bad("data length does not match the shape"));
    }
    let data = payload.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok((data, rows, cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is written reads back identically, and the header is 64-byte aligned.
    #[test]
    fn round_trip() {
        let data = [1.0f32, -2.5, 3.25, f32::MIN_POSITIVE, 0.0, 7.0];
        let mut buf = Vec::new();
        write_npy_f32(&mut buf, &data, 2, 3).unwrap();
        assert_eq!((buf.len() - data.len() * 4) % 64, 0);
        let (back, rows, cols) = read_npy_f32(&mut buf.as_slice()).unwrap();
        assert_eq!((back.as_slice(), rows, cols), (&data[..], 2, 3));
        assert!(write_npy_f32(&mut Vec::new(), &data, 4, 4).is_err());
        assert!(read_npy_f32(&mut &b"not numpy"[..]).is_err());
    }

    /// Rows written one at a time read back as the matrix, with the count in the header.
    #[test]
    fn row_writer_round_trip() {
        let data: Vec<f32> = (0..3 * 1000).map(|i| i as f32 * 0.5 - 7.0).collect();
        let mut writer = NpyRowWriter::new(io::Cursor::new(Vec::new()), 3).unwrap();
        for row in data.chunks(3) {
            writer.write_row(row).unwrap();
        }
        assert!(writer.write_row(&[1.0]).is_err(), "a short row is refused");
        let rows = writer.finish().unwrap();
        let bytes = writer.into_inner().into_inner();
        assert_eq!(rows, 1000);
        assert_eq!(bytes.len(), ROW_WRITER_HEADER_LEN + data.len() * 4);
        let (back, rows, cols) = read_npy_f32(&mut bytes.as_slice()).unwrap();
        assert_eq!((back, rows, cols), (data, 1000, 3));
    }
}
