//! `emotrace features` without `--plot` or `--repeat`: the file goes through decoding,
//! resampling, extraction and writing a packet at a time, so its length does not matter.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;

use super::features::{Job, print_frames, print_source, real_time, thread_cpu_time};
use super::features_out::FrameWriter;
use crate::audio::{AudioFileReader, DecodeError, StreamResampler};
use crate::features::StreamingExtractor;

/// Decodes, resamples, extracts and writes a packet at a time: memory stays flat however
/// long the file.
pub(super) fn run_streaming(out: &mut impl Write, job: &Job) -> anyhow::Result<()> {
    let cfg = &job.config;
    let start = Instant::now();
    let cpu_before = thread_cpu_time();
    let (source, written) = match &job.out {
        None => (stream_frames(job, |_, _| Ok(()))?, None),
        Some(output) => {
            let mut writer = FrameWriter::create(output, cfg)?;
            let source = stream_frames(job, |index, features| writer.write(index, features))?;
            (source, Some(writer.finish()?))
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(thread_cpu_time()).map(|(before, after)| after.saturating_sub(before));

    print_source(out, &job.file, source.duration_s, source.rate_hz, source.channels)?;
    if source.rate_hz != cfg.sample_rate_hz {
        writeln!(out, "resampled to {} Hz ({} samples)", cfg.sample_rate_hz, source.analysed_samples)?;
    }
    print_frames(out, cfg, cfg.n_frames(source.analysed_samples))?;
    let audio_s = source.analysed_samples as f64 / f64::from(cfg.sample_rate_hz);
    write!(
        out,
        "decoding, extraction and writing: {:.3} ms ({})",
        elapsed * 1e3,
        real_time(audio_s, elapsed)
    )?;
    match cpu {
        Some(cpu) => writeln!(out, ", CPU {:.3} ms", cpu.as_secs_f64() * 1e3)?,
        None => writeln!(out)?,
    }
    if let Some(line) = written {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// What [`stream_frames`] read.
struct StreamedSource {
    duration_s: f64,
    rate_hz: u32,
    channels: usize,
    /// Samples at the feature rate that went into the extractor.
    analysed_samples: usize,
}

/// Streams the file through the resampler and the extractor, handing each frame to
/// `on_frame(index, features)`; stops at the first error, the decoder's or `on_frame`'s.
fn stream_frames(
    job: &Job,
    on_frame: impl FnMut(usize, &[f32]) -> anyhow::Result<()>,
) -> anyhow::Result<StreamedSource> {
    let cfg = &job.config;
    let mut reader = AudioFileReader::open(&job.file)?;
    let rate_hz = reader.sample_rate_hz();
    let mut resampler = (rate_hz != cfg.sample_rate_hz)
        .then(|| StreamResampler::with_rates(rate_hz, cfg.sample_rate_hz))
        .transpose()
        .with_context(|| format!("{}: cannot resample", job.file.display()))?;
    let mut stage = ExtractStage {
        extractor: StreamingExtractor::new(cfg).context("feature config")?,
        analysed_samples: 0,
        failure: None,
        on_frame,
    };
    let mut chunk = Vec::new();
    while reader.read_chunk(&mut chunk)? > 0 && stage.failure.is_none() {
        match resampler.as_mut() {
            Some(r) => r.process(&chunk, |samples| stage.push(samples)),
            None => stage.push(&chunk),
        }
    }
    if reader.samples_read() == 0 {
        return Err(DecodeError::NoSamples { path: job.file.clone() }.into());
    }
    if let Some(r) = resampler.as_mut() {
        r.finish(|samples| stage.push(samples));
    }
    let analysed_samples = stage.finish()?;
    Ok(StreamedSource {
        duration_s: reader.samples_read() as f64 / f64::from(rate_hz),
        rate_hz,
        channels: reader.channels(),
        analysed_samples,
    })
}

/// The extractor with the consumer of its frames.
struct ExtractStage<F> {
    extractor: StreamingExtractor,
    analysed_samples: usize,
    /// The consumer's first error; later frames are dropped.
    failure: Option<anyhow::Error>,
    on_frame: F,
}

impl<F: FnMut(usize, &[f32]) -> anyhow::Result<()>> ExtractStage<F> {
    fn push(&mut self, samples: &[f32]) {
        self.analysed_samples += samples.len();
        let (failure, on_frame) = (&mut self.failure, &mut self.on_frame);
        self.extractor.push(samples, |f| Self::hand_out(failure, on_frame, f.index, f.features));
    }

    /// Ends the signal; the samples analysed, or the consumer's first error.
    fn finish(mut self) -> anyhow::Result<usize> {
        let (failure, on_frame) = (&mut self.failure, &mut self.on_frame);
        self.extractor.finish(|f| Self::hand_out(failure, on_frame, f.index, f.features));
        self.failure.map_or(Ok(self.analysed_samples), Err)
    }

    fn hand_out(failure: &mut Option<anyhow::Error>, on_frame: &mut F, index: usize, features: &[f32]) {
        if failure.is_none() {
            *failure = on_frame(index, features).err();
        }
    }
}
