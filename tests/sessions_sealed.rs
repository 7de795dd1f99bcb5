//! Sealed files (encrypted segments): exact round trips whatever the segmenting, any
//! byte range readable, truncation at every byte recovers the whole segments before it,
//! and a moved or foreign segment is refused.

use std::io::Write;
use std::sync::Arc;

use age::secrecy::SecretString;
use emotrace::sessions::keys::SessionKeys;
use emotrace::sessions::sealed::{MAGIC, SealedReader, SealedWriter, StreamTag};

fn keys() -> Arc<SessionKeys> {
    let pass = SecretString::from("test passphrase".to_owned());
    Arc::new(SessionKeys::create_with_work_factor(&pass, Some(4)).expect("keys"))
}

/// A deterministic byte stream (seeded LCG), so a failure is reproducible.
fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (x >> 56) as u8
        })
        .collect()
}

/// Plaintext written in uneven segments reads back byte for byte, whole and from any
/// offset, and a finished file says so.
#[test]
fn segments_round_trip_exactly_and_read_from_any_offset() {
    let keys = keys();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audio.pcm.sealed");
    let data = bytes(50_000, 7);
    let mut writer = SealedWriter::create(&path, Arc::clone(&keys), StreamTag::Audio).expect("create");
    let cuts = [0, 1, 999, 1000, 16_000, 16_001, 40_000, 50_000];
    for w in cuts.windows(2) {
        writer.append(&data[w[0]..w[1]]).expect("append");
    }
    writer.finish(&[]).expect("finish");
    let mut reader = SealedReader::open(&path, Arc::clone(&keys), StreamTag::Audio).expect("open");
    assert!(reader.is_complete());
    assert_eq!(reader.len(), 50_000);
    assert_eq!(reader.read_all().expect("read"), data);
    for (at, n) in [(0u64, 10usize), (998, 5), (15_999, 3000), (49_990, 100), (50_000, 4)] {
        let mut buf = vec![0u8; n];
        let got = reader.read_at(at, &mut buf).expect("read_at");
        let end = (at as usize + n).min(data.len());
        assert_eq!(&buf[..got], &data[at as usize..end], "at {at}");
    }
    let raw = std::fs::read(&path).expect("raw");
    assert!(raw.starts_with(MAGIC));
    assert!(!raw.windows(16).any(|w| w == &data[20_000..20_016]), "plaintext found in the file");
}

/// Cutting the file at any byte (a crash mid-write) leaves a readable, unfinished file
/// holding exactly the segments that were whole.
#[test]
fn truncation_anywhere_keeps_the_whole_segments() {
    let keys = keys();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trace.csv.sealed");
    let data = bytes(3_000, 11);
    let mut writer = SealedWriter::create(&path, Arc::clone(&keys), StreamTag::Trace).expect("create");
    let mut ends = Vec::new(); // (file length after the segment, plaintext length)
    for piece in data.chunks(700) {
        writer.append(piece).expect("append");
        ends.push((
            std::fs::metadata(&path).expect("meta").len(),
            ends.last().map_or(0, |e: &(u64, usize)| e.1) + piece.len(),
        ));
    }
    let full = std::fs::read(&path).expect("raw");
    let cut_path = dir.path().join("cut.sealed");
    for cut in (MAGIC.len()..=full.len()).step_by(37).chain([full.len() - 1, full.len()]) {
        std::fs::File::create(&cut_path).expect("create").write_all(&full[..cut]).expect("write");
        let mut reader =
            SealedReader::open(&cut_path, Arc::clone(&keys), StreamTag::Trace).expect("opens after a cut");
        let whole = ends.iter().rev().find(|(len, _)| *len <= cut as u64).map_or(0, |e| e.1);
        assert_eq!(reader.len(), whole as u64, "cut at {cut}");
        assert!(!reader.is_complete());
        assert_eq!(reader.read_all().expect("read"), &data[..whole], "cut at {cut}");
    }
}

/// A segment from another stream or another place does not pass, and other keys do not
/// open the file.
#[test]
fn moved_or_foreign_segments_are_refused() {
    let keys = keys();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a.sealed");
    let mut writer = SealedWriter::create(&path, Arc::clone(&keys), StreamTag::Trace).expect("create");
    writer.append(b"first").expect("append");
    writer.append(b"second").expect("append");
    writer.finish(b"").expect("finish");
    assert!(SealedReader::open(&path, Arc::clone(&keys), StreamTag::Audio).is_err(), "wrong stream accepted");
    let mut reader = SealedReader::open(&path, Arc::clone(&keys), StreamTag::Trace).expect("open");
    assert_eq!(reader.read_all().expect("read"), b"firstsecond");
    // Swap the first two records.
    let raw = std::fs::read(&path).expect("raw");
    let record =
        |at: usize| 12 + u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]) as usize;
    let a = MAGIC.len();
    let b = a + record(a);
    let c = b + record(b);
    let mut swapped = raw[..a].to_vec();
    swapped.extend_from_slice(&raw[b..c]);
    swapped.extend_from_slice(&raw[a..b]);
    swapped.extend_from_slice(&raw[c..]);
    std::fs::write(&path, &swapped).expect("write");
    let mut reader =
        SealedReader::open(&path, Arc::clone(&keys), StreamTag::Trace).expect("headers still parse");
    let err = reader.read_all().expect_err("swapped segments accepted");
    assert!(err.to_string().contains("out of place"), "{err}");
    std::fs::write(&path, &raw).expect("restore");
    let other =
        SessionKeys::create_with_work_factor(&SecretString::from("other".to_owned()), Some(4)).expect("keys");
    let mut reader = SealedReader::open(&path, Arc::new(other), StreamTag::Trace);
    assert!(reader.as_mut().map_or(true, |r| r.read_all().is_err()), "other keys opened the file");
}
