//! Colours: one fixed colour per emotion (traces, bars, the current label, exported
//! plots), and the magma colour map for the spectrogram.
//!
//! The emotion colours are the Okabe-Ito palette, chosen to stay distinguishable for the
//! common colour-vision deficiencies.

use egui::Color32;

use crate::model::Emotion;

/// The colour of `emotion`, the same everywhere it is drawn.
pub fn emotion_color(emotion: Emotion) -> Color32 {
    let [r, g, b] = emotion_rgb(emotion);
    Color32::from_rgb(r, g, b)
}

/// The colour of `emotion` as RGB bytes (for exported plots).
pub fn emotion_rgb(emotion: Emotion) -> [u8; 3] {
    match emotion {
        Emotion::Neutral => [160, 160, 160],
        Emotion::Happy => [230, 159, 0],
        Emotion::Sad => [0, 114, 178],
        Emotion::Angry => [213, 94, 0],
        Emotion::Fearful => [204, 121, 167],
        Emotion::Disgust => [0, 158, 115],
        Emotion::Surprised => [86, 180, 233],
    }
}

/// The magma colour map (matplotlib's), sampled at nine points from 0 to 1.
const MAGMA: [[u8; 3]; 9] = [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
];

/// A 256-entry lookup table of the magma colour map, built once per panel.
#[derive(Debug, Clone)]
pub struct ColorMap {
    table: Vec<Color32>,
}

impl ColorMap {
    /// Builds the table by linear interpolation between the map's sample points.
    pub fn magma() -> Self {
        let table = (0..256)
            .map(|i| {
                let x = i as f32 / 255.0 * (MAGMA.len() - 1) as f32;
                // NOTE: x is in 0..=8, so the floor fits an index.
                let k = (x.floor() as usize).min(MAGMA.len() - 2);
                let t = x - k as f32;
                let mix = |c: usize| {
                    let a = f32::from(MAGMA[k][c]);
                    let b = f32::from(MAGMA[k + 1][c]);
                    (a + (b - a) * t).round().clamp(0.0, 255.0) as u8
                };
                Color32::from_rgb(mix(0), mix(1), mix(2))
            })
            .collect();
        Self { table }
    }

    /// The colour of `value` in 0..=1 (clamped; NaN maps to the bottom).
    pub fn at(&self, value: f32) -> Color32 {
        let v = if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) };
        self.table[(v * 255.0).round() as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magma_runs_from_black_to_pale_yellow_and_emotions_differ() {
        let map = ColorMap::magma();
        assert_eq!(map.at(0.0), Color32::from_rgb(0, 0, 4));
        assert_eq!(map.at(1.0), Color32::from_rgb(252, 253, 191));
        assert_eq!(map.at(f32::NAN), map.at(-3.0));
        let mut colors: Vec<[u8; 3]> = Emotion::ALL.iter().map(|&e| emotion_rgb(e)).collect();
        colors.sort_unstable();
        colors.dedup();
        assert_eq!(colors.len(), Emotion::COUNT);
    }
}
