//! Fuzzing the decode entry point (`decode_file`, `load_mono_16k`, `AudioFileReader`)
//! with mutated real files (WAV, FLAC, MP3, OGG from `tests/data`) and with WAV headers
//! built from hostile field values. Every input must give samples or one error line
//! naming the file: never a panic, never non-finite samples, never an absurd rate.
//! See `tests/fuzz_common` for the budget (`EMOTRACE_FUZZ_ITERS`) and crash files.

mod fuzz_common;

use std::path::Path;

use emotrace::audio::decode::{MAX_RATE_HZ, MIN_RATE_HZ};
use emotrace::audio::{AudioFileReader, decode_file, load_mono_16k};
use fuzz_common::{Fuzzer, INTERESTING_U32, Rng, audio_seeds, iterations, mutate, regression_inputs};

/// Decodes `path` every way the program does and checks what comes out.
fn check_decodes(path: &Path) {
    let name = path.file_name().expect("name").to_string_lossy().into_owned();
    match decode_file(path) {
        Ok(audio) => {
            assert!((MIN_RATE_HZ..=MAX_RATE_HZ).contains(&audio.sample_rate_hz), "{}", audio.sample_rate_hz);
            assert!(!audio.samples.is_empty());
            assert!(audio.samples.iter().all(|s| s.is_finite()), "non-finite sample passed through");
        }
        Err(err) => {
            let line = err.to_string();
            assert!(!line.contains('\n'), "one line: {line}");
            assert!(line.contains(&name), "names the file: {line}");
        }
    }
    // The streaming reader (what replay uses) must stop cleanly too, chunk by chunk.
    if let Ok(mut reader) = AudioFileReader::open(path) {
        let mut chunk = Vec::new();
        for _ in 0..100_000 {
            match reader.read_chunk(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => assert_eq!(n, chunk.len()),
            }
        }
    }
}

/// Mutated copies of every seed file: decoding never panics.
#[test]
fn mutated_audio_files_never_panic() {
    let seeds = audio_seeds();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng::new(0xDEC0DE);
    let mut fuzzer = Fuzzer::new("decode");
    for i in 0..iterations(5_000) {
        let (seed_path, seed) = rng.pick(&seeds).clone();
        let data = mutate(&mut rng, &seed);
        // Mostly the seed's own extension; sometimes another, so probing cannot rely on it.
        let ext = if rng.chance(0.8) {
            seed_path.extension().and_then(|e| e.to_str()).unwrap_or("bin").to_owned()
        } else {
            (*rng.pick(&["wav", "flac", "mp3", "ogg", "bin"])).to_owned()
        };
        let path = dir.path().join(format!("case{i}.{ext}"));
        std::fs::write(&path, &data).expect("write case");
        let resample = rng.chance(0.1);
        fuzzer.run(&data, &ext, || {
            check_decodes(&path);
            if resample {
                let _ = load_mono_16k(&path);
            }
        });
        let _ = std::fs::remove_file(&path);
    }
    fuzzer.finish();
}

/// A WAV file whose header fields are drawn from hostile values (0 Hz, 4 GHz, 0 or
/// 65535 channels, odd bit depths, sizes past the end of the file).
fn hostile_wav(rng: &mut Rng) -> Vec<u8> {
    let pick_u32 = |rng: &mut Rng, usual: &[u32]| {
        if rng.chance(0.5) { *rng.pick(usual) } else { *rng.pick(&INTERESTING_U32) }
    };
    let format_tag = pick_u32(rng, &[1, 3, 0xFFFE, 2, 0x11, 6, 7]) as u16;
    let channels = pick_u32(rng, &[1, 2, 6, 0, 255]) as u16;
    let rate = pick_u32(rng, &[16_000, 44_100, 8_000, 999, 768_001, 1]);
    let bits = pick_u32(rng, &[8, 16, 24, 32, 64, 0, 4, 12]) as u16;
    let block_align = if rng.chance(0.7) {
        (u32::from(channels) * u32::from(bits) / 8) as u16
    } else {
        pick_u32(rng, &[0, 1, 3]) as u16
    };
    let byte_rate = rate.wrapping_mul(u32::from(block_align));
    let extensible = format_tag == 0xFFFE;
    let fmt_len: u32 = if extensible { 40 } else { pick_u32(rng, &[16, 18, 14, 20]) };
    let data_len = 2 * rng.below(3_000);
    let data_field = pick_u32(rng, &[data_len as u32, 0, 7]);
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&pick_u32(rng, &[(20 + data_len as u32).wrapping_add(fmt_len)]).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&fmt_len.to_le_bytes());
    out.extend_from_slice(&format_tag.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    if extensible {
        out.extend_from_slice(&22u16.to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        out.extend_from_slice(&pick_u32(rng, &[0x4, 0x3, 0]).to_le_bytes()); // channel mask
        let sub = *rng.pick(&[1u16, 3, 0, 0xFFFF]);
        out.extend_from_slice(&sub.to_le_bytes());
        out.extend_from_slice(b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71");
    } else {
        out.resize(out.len() + fmt_len.saturating_sub(16).min(64) as usize, 0);
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_field.to_le_bytes());
    for _ in 0..data_len {
        out.push(rng.next_u64() as u8);
    }
    if rng.chance(0.3) { mutate(rng, &out) } else { out }
}

/// WAV headers with hostile fields: never a panic, a huge allocation or a 0 Hz result.
#[test]
fn hostile_wav_headers_never_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng::new(0x0057_A7E5);
    let mut fuzzer = Fuzzer::new("wav-header");
    for i in 0..iterations(5_000) {
        let data = hostile_wav(&mut rng);
        let path = dir.path().join(format!("header{i}.wav"));
        std::fs::write(&path, &data).expect("write case");
        fuzzer.run(&data, "wav", || check_decodes(&path));
        let _ = std::fs::remove_file(&path);
    }
    fuzzer.finish();
}

/// Every checked-in crash input still decodes to samples or one clean error.
#[test]
fn decode_regressions_stay_fixed() {
    let inputs = regression_inputs("decode");
    assert!(!inputs.is_empty(), "tests/fuzz_regressions/decode holds the fixed crash inputs");
    for path in inputs {
        check_decodes(&path);
    }
}

/// Through the CLI, a crash input gives one stderr line naming the file (the decoder's
/// panic message is not printed) and exit code 1.
#[test]
fn cli_reports_a_crashing_input_in_one_line() {
    let Some(path) = regression_inputs("decode").into_iter().next() else { return };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .arg("features")
        .arg(&path)
        .output()
        .expect("emotrace runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if !out.status.success() {
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        let name = path.file_name().expect("name").to_string_lossy();
        assert!(stderr.contains(name.as_ref()), "{stderr}");
    }
}
