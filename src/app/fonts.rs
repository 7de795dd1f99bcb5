//! Fonts of the window: egui's bundled font, with DejaVu Sans (bundled in `assets/`, as
//! for the plots) behind it for the symbols egui's font lacks (▶ ■ ● on the transport
//! buttons and the recording light). Since egui 0.37 the default fonts carry no symbol
//! font, and a glyph no font has would be drawn as an empty box.

use egui::{FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Adds DejaVu Sans as the last fallback of the proportional and monospace families.
pub fn install_symbol_font(ctx: &egui::Context) {
    let families = [FontFamily::Proportional, FontFamily::Monospace]
        .map(|family| InsertFontFamily { family, priority: FontPriority::Lowest });
    ctx.add_font(FontInsert::new("DejaVuSans", FontData::from_static(DEJAVU_SANS), families.to_vec()));
}
