//! The report page: HTML5 with its stylesheet inline, laid out for A4 paper (each
//! session starts on a new page when printed) and readable on screen.

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 10.5pt; color: #1d1d1f;
       max-width: 182mm; margin: 0 auto; padding: 8mm 0; line-height: 1.4; }
header { border-bottom: 2px solid #1d1d1f; margin-bottom: 5mm; }
h1 { font-size: 18pt; margin: 0 0 1mm 0; }
header p { margin: 0 0 2mm 0; color: #555; }
h2 { font-size: 14pt; margin: 6mm 0 2mm 0; border-bottom: 1px solid #bbb; padding-bottom: 1mm; }
h3 { font-size: 11.5pt; margin: 4mm 0 1mm 0; }
section.session + section.session, section.trend + section.session { break-before: page; }
figure.plot { margin: 1mm 0 2mm 0; break-inside: avoid; }
figure.plot svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; margin: 1mm 0 3mm 0; break-inside: avoid; }
th, td { text-align: left; padding: 1mm 3mm 1mm 0; vertical-align: top; }
table.facts th { color: #555; font-weight: normal; width: 28mm; }
table.markers, table.numbers { width: 100%; }
table.markers thead th, table.numbers thead th { border-bottom: 1px solid #888; }
table.markers td, table.numbers td { border-bottom: 1px solid #e2e2e2; }
p.caption { color: #555; margin: 0; font-size: 9.5pt; }
p.meaning { background: #f3f3f0; padding: 2mm 3mm; border-left: 3px solid #888; }
footer { margin-top: 6mm; color: #777; font-size: 8.5pt; border-top: 1px solid #ccc; padding-top: 2mm; }
"#;

/// An HTML page being built.
pub struct Page {
    html: String,
}

impl Page {
    /// Starts the page with its title and stylesheet.
    pub fn new(title: &str) -> Self {
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            escape(title)
        );
        Self { html }
    }

    /// The page heading and a line under it.
    pub fn header(&mut self, title: &str, line: &str) {
        self.html.push_str(&format!(
            "<header>\n<h1>{}</h1>\n<p>{}</p>\n</header>\n",
            escape(title),
            escape(line)
        ));
    }

    /// A section of class `class` with a heading (already escaped) and a body (HTML).
    pub fn section(&mut self, class: &str, heading: &str, body: &str) {
        self.html.push_str(&format!("<section class=\"{class}\">\n<h2>{heading}</h2>\n{body}</section>\n"));
    }

    /// Closes the page with a footer naming the program.
    pub fn finish(mut self) -> String {
        self.html.push_str(&format!(
            "<footer>Made by emotrace {} from the session's own files. Confidential: it describes a person's voice.</footer>\n</body>\n</html>\n",
            env!("CARGO_PKG_VERSION")
        ));
        self.html
    }
}
