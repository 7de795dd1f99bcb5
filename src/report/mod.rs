//! `emotrace report`: one self-contained HTML file for one or more recorded sessions, to
//! print (A4) or file: per session the client code, date, length, the emotion trace, each
//! emotion's share of speech time, the markers with the dominant emotion around each, and
//! the model with its measured accuracy in plain words; for a client with several
//! sessions, a trend plot across them in date order. Plots are inline SVG: the file needs
//! nothing beside it and holds no audio.

pub mod html;
pub mod model_info;
pub mod plots;

use crate::model::Emotion;
use crate::sessions::overview::SessionOverview;
use crate::sessions::recorded::RecordedSession;

use html::{Page, escape};
use model_info::{accuracy_sentence, model_info};

/// One session as the report takes it.
pub struct ReportSession {
    /// The opened session (summary, folder).
    pub session: RecordedSession,
    /// Its trace, markers and statistics.
    pub overview: SessionOverview,
}

/// `h:mm:ss` or `m:ss`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3_600 {
        format!("{}:{:02}:{:02}", s / 3_600, s % 3_600 / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `2026-12-02 14:30 UTC` for seconds since the Unix epoch.
pub fn utc_date_time(unix_s: u64) -> String {
    let stamp = crate::engine::recorder::utc_stamp(unix_s);
    format!("{}-{}-{} {}:{} UTC", &stamp[0..4], &stamp[4..6], &stamp[6..8], &stamp[9..11], &stamp[11..13])
}

/// The whole report as HTML. Sessions are shown in date order.
pub fn build_report(mut sessions: Vec<ReportSession>) -> Result<String, String> {
    sessions.sort_by_key(|s| s.session.summary.started_unix_s);
    let mut clients: Vec<String> = Vec::new();
    for s in &sessions {
        let code = client_label(&s.session);
        if !clients.contains(&code) {
            clients.push(code);
        }
    }
    let title = format!("Session report: {}", clients.join(", "));
    let mut page = Page::new(&title);
    let span = match (sessions.first(), sessions.last()) {
        (Some(a), Some(b)) if sessions.len() > 1 => format!(
            "{} sessions, {} to {}",
            sessions.len(),
            utc_date_time(a.session.summary.started_unix_s),
            utc_date_time(b.session.summary.started_unix_s)
        ),
        (Some(a), _) => format!("1 session, {}", utc_date_time(a.session.summary.started_unix_s)),
        _ => "no sessions".to_owned(),
    };
    page.header(&title, &span);
    for client in &clients {
        let own: Vec<&ReportSession> =
            sessions.iter().filter(|s| client_label(&s.session) == *client).collect();
        if own.len() >= 2 {
            trend_section(&mut page, client, &own)?;
        }
    }
    for (i, s) in sessions.iter().enumerate() {
        session_section(&mut page, i + 1, s)?;
    }
    Ok(page.finish())
}

fn client_label(session: &RecordedSession) -> String {
    let code = session.summary.client_code.trim();
    if code.is_empty() { "no client code".to_owned() } else { code.to_owned() }
}

fn trend_section(page: &mut Page, client: &str, sessions: &[&ReportSession]) -> Result<(), String> {
    // "12-02 07:21": month, day and time, so two sessions on one day stay apart.
    let labels: Vec<String> =
        sessions.iter().map(|s| utc_date_time(s.session.summary.started_unix_s)[5..16].to_owned()).collect();
    let shares: Vec<[f64; Emotion::COUNT]> = sessions.iter().map(|s| s.overview.stats.shares()).collect();
    let svg = plots::trend_svg(&labels, &shares)?;
    let mut body = format!(
        "<p>Each emotion's share of speech time in each of {}'s {} sessions, in date order.</p>\n<figure class=\"plot\">{svg}</figure>\n",
        escape(client),
        sessions.len()
    );
    body.push_str("<table class=\"numbers\"><thead><tr><th>session</th>");
    for e in Emotion::ALL {
        body.push_str(&format!("<th>{}</th>", e.name()));
    }
    body.push_str("</tr></thead><tbody>\n");
    for (label, row) in labels.iter().zip(&shares) {
        body.push_str(&format!("<tr><td>{}</td>", escape(label)));
        for v in row {
            body.push_str(&format!("<td>{:.0} %</td>", v * 100.0));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody></table>\n");
    page.section("trend", &format!("Trend across sessions: {}", escape(client)), &body);
    Ok(())
}

fn session_section(page: &mut Page, number: usize, s: &ReportSession) -> Result<(), String> {
    let summary = &s.session.summary;
    let overview = &s.overview;
    let stats = &overview.stats;
    let model = model_info(&summary.model);
    let mut body = String::from("<table class=\"facts\">\n");
    let mut fact = |k: &str, v: String| body.push_str(&format!("<tr><th>{k}</th><td>{v}</td></tr>\n"));
    fact("client", escape(&client_label(&s.session)));
    fact("date", utc_date_time(summary.started_unix_s));
    fact("length", clock(overview.duration_s));
    fact(
        "speech",
        format!(
            "{} ({:.0} % of the session)",
            clock(stats.speech_s()),
            100.0 * stats.speech_s() / overview.duration_s.max(1e-9)
        ),
    );
    if !summary.notes.trim().is_empty() {
        fact("notes", escape(&summary.notes).replace('\n', "<br>"));
    }
    if !summary.complete {
        fact("note", "the recording ended abruptly; this report covers what was saved".to_owned());
    }
    body.push_str("</table>\n");
    body.push_str("<h3>Emotion trace</h3>\n<p class=\"caption\">Smoothed probability of each emotion over the session; gaps are silence, the green bar is detected speech, dashed lines are the numbered markers.</p>\n");
    body.push_str(&format!("<figure class=\"plot\">{}</figure>\n", plots::trace_svg(overview)?));
    body.push_str("<h3>Share of speech time</h3>\n");
    if stats.scored_hops == 0 {
        body.push_str("<p>No speech was scored by a model in this session.</p>\n");
    } else {
        body.push_str(&format!("<figure class=\"plot\">{}</figure>\n", plots::shares_svg(&stats.shares())?));
    }
    body.push_str("<h3>Markers</h3>\n");
    if overview.markers.is_empty() {
        body.push_str("<p>No markers were set.</p>\n");
    } else {
        body.push_str(&format!(
            "<table class=\"markers\"><thead><tr><th>#</th><th>time</th><th>note</th><th>dominant emotion (±{:.0} s)</th></tr></thead><tbody>\n",
            crate::sessions::overview::MARKER_WINDOW_S
        ));
        for (i, m) in overview.markers.iter().enumerate() {
            let dominant = overview.dominant_around(m.time_s).map_or_else(
                || "no speech".to_owned(),
                |(e, p)| format!("{} ({:.0} %)", e.name(), p * 100.0),
            );
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                i + 1,
                clock(m.time_s),
                escape(&m.note),
                dominant
            ));
        }
        body.push_str("</tbody></table>\n");
    }
    body.push_str("<h3>Model</h3>\n");
    let figures = match (model.accuracy, model.unweighted_recall) {
        (Some(a), Some(ua)) => format!(
            " — accuracy {:.1} %, unweighted average recall {:.1} % on held-out speakers",
            a * 100.0,
            ua * 100.0
        ),
        (Some(a), None) => format!(" — accuracy {:.1} % on held-out speakers", a * 100.0),
        _ => String::new(),
    };
    body.push_str(&format!(
        "<p><strong>{}</strong>{figures}.</p>\n<p class=\"meaning\">{}</p>\n",
        escape(&model.name),
        escape(&accuracy_sentence(&model))
    ));
    if let Some(calibration) = &summary.calibration {
        // The file's name only: its folder says nothing the reader needs.
        let name = std::path::Path::new(calibration)
            .file_name()
            .map_or(calibration.clone(), |n| n.to_string_lossy().into());
        body.push_str(&format!(
            "<p class=\"calibration\">The model read the voice against a calibration reading ({}) recorded before, not against the session so far.</p>\n",
            escape(&name)
        ));
    }
    let heading = format!("Session {number}: {}", utc_date_time(summary.started_unix_s));
    page.section("session", &heading, &body);
    Ok(())
}
