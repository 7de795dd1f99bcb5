//! Reading a recorded trace back: `trace.csv` or `trace.jsonl` (plain or sealed), a line
//! at a time, into hops and markers. Lines may arrive split across segments; a partial
//! last line (a session that was killed) is ignored.

use serde::Deserialize;

use crate::engine::Probabilities;
use crate::engine::recorder::TraceFormat;
use crate::model::Emotion;

/// One recorded hop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceHop {
    /// Time in the recording, in seconds.
    pub t_s: f64,
    /// Whether the hop was speech.
    pub speech: bool,
    /// Smoothed probabilities (speech with a model), class order of [`Emotion::ALL`].
    pub probabilities: Option<Probabilities>,
    /// Input level, in dBFS.
    pub level_dbfs: f32,
}

/// One line of a trace.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceLine {
    /// A hop.
    Hop(TraceHop),
    /// A marker: its time in the recording (seconds) and note.
    Marker(f64, String),
}

/// Turns bytes into trace lines, whatever the chunking.
pub struct TraceParser {
    format: TraceFormat,
    partial: Vec<u8>,
    /// Column index of each field in a CSV (from its header row).
    columns: Option<CsvColumns>,
    /// Lines that did not parse (skipped).
    pub bad_lines: u64,
}

#[derive(Debug, Clone)]
struct CsvColumns {
    t_s: usize,
    speech: usize,
    level: usize,
    probs: [usize; Emotion::COUNT],
    marker: usize,
}

impl TraceParser {
    /// A parser for `format`.
    pub fn new(format: TraceFormat) -> Self {
        Self { format, partial: Vec::new(), columns: None, bad_lines: 0 }
    }

    /// Feeds the next bytes; calls `each` for every complete line's content.
    pub fn feed(&mut self, bytes: &[u8], mut each: impl FnMut(TraceLine)) {
        let mut rest = bytes;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let line = if self.partial.is_empty() {
                self.parse(&rest[..i])
            } else {
                self.partial.extend_from_slice(&rest[..i]);
                let whole = std::mem::take(&mut self.partial);
                self.parse(&whole)
            };
            if let Some(line) = line {
                each(line);
            }
            rest = &rest[i + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    fn parse(&mut self, line: &[u8]) -> Option<TraceLine> {
        let text = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
        if text.is_empty() {
            return None;
        }
        let parsed = match self.format {
            TraceFormat::Csv if self.columns.is_none() => {
                self.columns = csv_columns(text);
                return None;
            }
            TraceFormat::Csv => self.columns.as_ref().and_then(|c| csv_line(c, text)),
            TraceFormat::Jsonl => json_line(text),
        };
        if parsed.is_none() {
            self.bad_lines += 1;
        }
        parsed
    }
}

fn csv_columns(header: &str) -> Option<CsvColumns> {
    let names: Vec<&str> = header.split(',').collect();
    let find = |name: &str| names.iter().position(|n| *n == name);
    let mut probs = [0; Emotion::COUNT];
    for e in Emotion::ALL {
        probs[e.index()] = find(&format!("p_{}", e.name()))?;
    }
    Some(CsvColumns {
        t_s: find("t_s")?,
        speech: find("speech")?,
        level: find("level_dbfs")?,
        probs,
        marker: find("marker")?,
    })
}

fn csv_line(c: &CsvColumns, text: &str) -> Option<TraceLine> {
    // The marker note is the last column and may be quoted (commas inside).
    let fields: Vec<&str> = text.splitn(c.marker + 1, ',').collect();
    let t_s: f64 = fields.get(c.t_s)?.parse().ok()?;
    let marker = fields.get(c.marker).copied().unwrap_or("");
    if !marker.is_empty() {
        return Some(TraceLine::Marker(t_s, unquote(marker)));
    }
    let speech = *fields.get(c.speech)? == "1";
    let level_dbfs = fields.get(c.level)?.parse().unwrap_or(f32::NAN);
    let mut p = [0.0f32; Emotion::COUNT];
    let mut scored = true;
    for (i, &col) in c.probs.iter().enumerate() {
        match fields.get(col)?.parse::<f32>() {
            Ok(v) => p[i] = v,
            Err(_) => scored = false,
        }
    }
    Some(TraceLine::Hop(TraceHop { t_s, speech, probabilities: scored.then_some(p), level_dbfs }))
}

fn unquote(field: &str) -> String {
    match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_owned(),
    }
}

#[derive(Deserialize)]
struct JsonRow {
    t_s: f64,
    #[serde(default)]
    speech: bool,
    #[serde(default)]
    level_dbfs: Option<f32>,
    #[serde(default)]
    p: Option<std::collections::BTreeMap<String, f32>>,
    #[serde(default)]
    marker: Option<String>,
}

fn json_line(text: &str) -> Option<TraceLine> {
    let row: JsonRow = serde_json::from_str(text).ok()?;
    if let Some(note) = row.marker {
        return Some(TraceLine::Marker(row.t_s, note));
    }
    let probabilities = row.p.map(|map| {
        let mut p = [0.0f32; Emotion::COUNT];
        for e in Emotion::ALL {
            p[e.index()] = map.get(e.name()).copied().unwrap_or(0.0);
        }
        p
    });
    Some(TraceLine::Hop(TraceHop {
        t_s: row.t_s,
        speech: row.speech,
        probabilities,
        level_dbfs: row.level_dbfs.unwrap_or(f32::NAN),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::recorder::csv_header;

    /// CSV rows and quoted markers parse whatever the chunking; a partial last line waits.
    #[test]
    fn csv_parses_across_chunks() {
        let mut text = csv_header();
        text.push_str("0.010000,0.010000,1,1,angry,-20.00,1,0.010,0.1,0,0,0.9,0,0,0,0,1.000,\n");
        text.push_str("0.020000,0.020000,2,0,no speech,-60.00,1,0.020,,,,,,,,0,1.000,\n");
        text.push_str("0.025000,0.025000,,,,,,,,,,,,,,,,\"a, \"\"quoted\"\" note\"\n");
        text.push_str("0.03");
        for chunk in [1, 7, 1000] {
            let mut parser = TraceParser::new(TraceFormat::Csv);
            let mut lines = Vec::new();
            for piece in text.as_bytes().chunks(chunk) {
                parser.feed(piece, |l| lines.push(l));
            }
            assert_eq!(lines.len(), 3, "chunk {chunk}");
            let TraceLine::Hop(hop) = &lines[0] else { panic!("hop expected") };
            assert!(hop.speech);
            assert_eq!(hop.probabilities.expect("scored")[Emotion::Angry.index()], 0.9);
            let TraceLine::Hop(silent) = &lines[1] else { panic!("hop expected") };
            assert!(silent.probabilities.is_none());
            assert_eq!(lines[2], TraceLine::Marker(0.025, "a, \"quoted\" note".into()));
            assert_eq!(parser.bad_lines, 0);
        }
    }
}
