//! The voice-activity gate and utterance segmentation, on frame level alone.
//!
//! A frame is *loud* when its level is above both an absolute threshold and a tracked
//! noise floor plus a margin. Speech lasts from a loud frame until `hangover_ms` after
//! the last loud one. An *utterance* starts at a loud frame and ends after
//! `silence_reset_ms` without one, or is cut at `max_utterance_ms`; at each start the
//! model state is reset. Inside an utterance the model is stepped on every frame (short
//! pauses are part of speech); outside one it rests.
//!
//! With `enabled: false` every frame counts as loud: one utterance from the first frame.
//!
//! The noise floor follows the level down at once and up at `floor_rise_db_per_s`, so a
//! steady fan or hum becomes "silence" after a few seconds while speech, which keeps
//! dipping between syllables, does not drag the floor up.

use super::config::VadConfig;

/// What the gate decided for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateDecision {
    /// The frame counts as speech (loud, or within the hangover after loud).
    pub speech: bool,
    /// A new utterance starts at this frame: reset the model state before stepping.
    pub reset: bool,
    /// Step the model on this frame (inside an utterance).
    pub step_model: bool,
    /// Seconds since the current utterance started (0 outside one).
    pub utterance_s: f32,
}

/// Frame-by-frame voice-activity gate with utterance resets.
#[derive(Debug, Clone)]
pub struct UtteranceGate {
    cfg: VadConfig,
    hop_ms: f32,
    floor_dbfs: f32,
    since_loud_ms: f32,
    in_utterance: bool,
    utterance_ms: f32,
    utterances: u64,
}

impl UtteranceGate {
    /// A gate for frames `hop_ms` apart.
    pub fn new(cfg: VadConfig, hop_ms: f32) -> Self {
        let mut gate = Self {
            cfg,
            hop_ms,
            floor_dbfs: 0.0,
            since_loud_ms: f32::INFINITY,
            in_utterance: false,
            utterance_ms: 0.0,
            utterances: 0,
        };
        gate.reset();
        gate
    }

    /// Forgets everything: no utterance, noise floor back at its start value.
    pub fn reset(&mut self) {
        self.floor_dbfs = self.cfg.threshold_dbfs - self.cfg.margin_db;
        self.since_loud_ms = f32::INFINITY;
        self.in_utterance = false;
        self.utterance_ms = 0.0;
    }

    /// Ends the current utterance (after a gap in the audio); the noise floor is kept.
    pub fn end_utterance(&mut self) {
        self.in_utterance = false;
        self.since_loud_ms = f32::INFINITY;
        self.utterance_ms = 0.0;
    }

    /// Utterances started so far.
    pub fn utterances(&self) -> u64 {
        self.utterances
    }

    /// The tracked noise floor, in dBFS.
    pub fn floor_dbfs(&self) -> f32 {
        self.floor_dbfs
    }

    /// Decides one frame from its level in dBFS.
    pub fn update(&mut self, level_dbfs: f32) -> GateDecision {
        let level = if level_dbfs.is_nan() { -120.0 } else { level_dbfs };
        let loud = !self.cfg.enabled
            || (level > self.cfg.threshold_dbfs && level > self.floor_dbfs + self.cfg.margin_db);
        let rise = self.cfg.floor_rise_db_per_s * self.hop_ms / 1_000.0;
        self.floor_dbfs = if level < self.floor_dbfs { level } else { (self.floor_dbfs + rise).min(level) };

        self.since_loud_ms = if loud { 0.0 } else { self.since_loud_ms + self.hop_ms };
        let mut reset = false;
        if self.in_utterance {
            self.utterance_ms += self.hop_ms;
            if self.since_loud_ms >= self.cfg.silence_reset_ms {
                self.end_utterance();
            } else if self.utterance_ms >= self.cfg.max_utterance_ms {
                // Cut: a new utterance begins at this very frame.
                reset = true;
                self.utterance_ms = 0.0;
                self.utterances += 1;
            }
        } else if loud {
            reset = true;
            self.in_utterance = true;
            self.utterance_ms = 0.0;
            self.utterances += 1;
        }
        let speech = self.in_utterance && self.since_loud_ms <= self.cfg.hangover_ms;
        GateDecision {
            speech,
            reset,
            step_model: self.in_utterance,
            utterance_s: if self.in_utterance { self.utterance_ms / 1_000.0 } else { 0.0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> UtteranceGate {
        let cfg = VadConfig {
            enabled: true,
            threshold_dbfs: -50.0,
            margin_db: 10.0,
            hangover_ms: 100.0,
            silence_reset_ms: 400.0,
            max_utterance_ms: 1_000.0,
            floor_rise_db_per_s: 3.0,
        };
        UtteranceGate::new(cfg, 10.0)
    }

    fn run(gate: &mut UtteranceGate, level: f32, frames: usize) -> Vec<GateDecision> {
        (0..frames).map(|_| gate.update(level)).collect()
    }

    #[test]
    fn silence_is_never_speech() {
        let mut g = gate();
        let d = run(&mut g, -80.0, 200);
        assert!(d.iter().all(|d| !d.speech && !d.reset && !d.step_model));
        assert_eq!(g.utterances(), 0);
        assert_eq!(g.floor_dbfs(), -80.0);
    }

    /// Speech starts an utterance with a reset; a 200 ms pause keeps it (speech ends after
    /// the 100 ms hangover, the model keeps stepping); 400 ms of silence ends it.
    #[test]
    fn pauses_bridge_and_long_silence_ends_the_utterance() {
        let mut g = gate();
        run(&mut g, -80.0, 50);
        let talk = run(&mut g, -20.0, 30);
        assert!(talk[0].reset && talk[0].speech);
        assert!(talk[1..].iter().all(|d| d.speech && !d.reset && d.step_model));
        let pause = run(&mut g, -80.0, 20);
        assert!(pause[..10].iter().all(|d| d.speech), "hangover keeps 100 ms as speech");
        assert!(pause[10..].iter().all(|d| !d.speech && d.step_model), "still inside the utterance");
        let again = run(&mut g, -20.0, 5);
        assert!(again.iter().all(|d| d.speech && !d.reset), "a 200 ms pause does not reset");
        let silence = run(&mut g, -80.0, 60);
        let ended = silence.iter().position(|d| !d.step_model).expect("utterance ends");
        assert_eq!(ended, 39, "ends on the 40th silent frame (400 ms)");
        assert_eq!(g.utterances(), 1);
        let next = run(&mut g, -20.0, 1);
        assert!(next[0].reset);
        assert_eq!(g.utterances(), 2);
    }

    /// An utterance is cut (and the model reset) at the maximum length.
    #[test]
    fn long_speech_is_cut_at_max_length() {
        let mut g = gate();
        run(&mut g, -80.0, 10);
        let d = run(&mut g, -20.0, 250);
        let resets: Vec<usize> = d.iter().enumerate().filter(|(_, d)| d.reset).map(|(i, _)| i).collect();
        assert_eq!(resets, vec![0, 100, 200]);
        assert!(d.iter().all(|d| d.speech));
        assert!((d[150].utterance_s - 0.5).abs() < 1e-4);
    }

    /// With the gate off, every frame is speech in one utterance from the first frame.
    #[test]
    fn disabled_gate_passes_everything() {
        let mut g = UtteranceGate::new(VadConfig { enabled: false, ..VadConfig::default() }, 10.0);
        let d = run(&mut g, -120.0, 500);
        assert!(d[0].reset && d[1..].iter().all(|d| !d.reset));
        assert!(d.iter().all(|d| d.speech && d.step_model));
        assert_eq!(g.utterances(), 1);
    }

    /// A steady loud noise stops counting as speech once the floor has risen to it.
    #[test]
    fn steady_noise_becomes_silence() {
        let mut g = gate();
        let d = run(&mut g, -40.0, 3_000);
        assert!(d[0].speech);
        assert!(!d[2_999].speech);
        assert!(g.floor_dbfs() <= -40.0);
    }
}
