//! The drawing toolkit every chart shares: the embedded font, the colours, one figure drawn on
//! both backends (SVG and PNG), the frame (title on top, legend rows at the bottom) and the
//! "no data" text. Figures know what to draw; this file knows how a chart is made into files.

use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Chart;

/// The embedded font (DejaVu Sans, see `fonts/DejaVuSans.LICENSE`).
static FONT: &[u8] = include_bytes!("../../../fonts/DejaVuSans.ttf");
/// The family every chart text uses; SVG viewers substitute their own sans-serif.
pub const FAMILY: &str = "sans-serif";
/// Slide size.
pub const SIZE: (u32, u32) = (1280, 720);

pub(super) const TITLE_PX: u32 = 34;
pub(super) const AXIS_PX: u32 = 24;
pub(super) const LABEL_PX: u32 = 19;
const LEGEND_PX: u32 = 20;
const LEGEND_ROW: i32 = 32;
pub(super) const GRID: RGBColor = RGBColor(228, 228, 228);
const INK: RGBColor = RGBColor(40, 40, 40);
pub(super) const CARD_MARK: RGBColor = RGBColor(196, 30, 58);
pub(super) const RULEBOOK_MARK: RGBColor = RGBColor(96, 64, 168);
pub(super) const COST: RGBColor = RGBColor(0, 114, 178);
pub(super) const CHARGED: RGBColor = RGBColor(213, 94, 0);
pub(super) const FREE: RGBColor = RGBColor(86, 180, 233);
pub(super) const THRESHOLD: RGBColor = RGBColor(110, 110, 110);
/// Okabe–Ito based palette (readable for colour-blind viewers), for series without a fixed colour.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(153, 153, 51),
    RGBColor(102, 102, 102),
];

/// The fixed colour of a billed category, so every chart agrees.
/// A billed category as a chart legend says it (`authentication_international` →
/// `Authentication (international)`); unknown ids as they are.
pub fn category_label(category: &str) -> String {
    match category {
        "marketing" => "Marketing",
        "utility" => "Utility",
        "authentication" => "Authentication",
        "authentication_international" => "Authentication (international)",
        "service" => "Service",
        "free_entry_point" => "Free entry point",
        "business_initiated" => "Business-initiated",
        "user_initiated" => "User-initiated",
        "group_marketing" => "Group marketing",
        "group_utility" => "Group utility",
        "group_service" => "Group service",
        "meta_business_agent" => "Meta Business Agent",
        "general_purpose_ai" => "AI provider",
        "call" => "Business calls",
        other => other,
    }
    .to_string()
}

pub fn category_color(category: &str) -> RGBColor {
    match category {
        "marketing" => RGBColor(0, 114, 178),
        "utility" => RGBColor(230, 159, 0),
        "authentication" => RGBColor(0, 158, 115),
        "authentication_international" => RGBColor(86, 180, 233),
        "service" => RGBColor(204, 121, 167),
        "business_initiated" => RGBColor(213, 94, 0),
        "user_initiated" => RGBColor(153, 153, 51),
        "free_entry_point" => RGBColor(150, 150, 150),
        "group_marketing" => RGBColor(0, 70, 120),
        "group_utility" => RGBColor(170, 110, 0),
        "group_service" => RGBColor(150, 80, 120),
        "meta_business_agent" => RGBColor(120, 60, 200),
        "general_purpose_ai" => RGBColor(60, 60, 60),
        "call" => RGBColor(0, 110, 80),
        other => PALETTE[other.bytes().map(usize::from).sum::<usize>() % PALETTE.len()],
    }
}

pub(super) fn font(px: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, px).into_font()).color(&INK)
}

fn register_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok =
        *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        bail!("the embedded chart font could not be loaded")
    }
}

pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart description that can be drawn on any backend.
pub(super) trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

thread_local! {
    /// The provenance note drawn in the corner of every chart rendered inside [`with_note`].
    static NOTE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Renders the charts `f` makes with `note` (period, sources) in their bottom-right corner, so
/// that a chart pasted on its own still says what it shows.
pub fn with_note<T>(note: &str, f: impl FnOnce() -> T) -> T {
    let old = NOTE.with(|n| std::mem::replace(&mut *n.borrow_mut(), note.to_string()));
    let out = f();
    NOTE.with(|n| *n.borrow_mut() = old);
    out
}

/// The note, small, in the bottom-right corner of `root`.
fn draw_note<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let note = NOTE.with(|n| n.borrow().clone());
    if note.is_empty() {
        return Ok(());
    }
    let (w, h) = root.dim_in_pixel();
    let style = font(13)
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Right, VPos::Bottom));
    root.draw(&Text::new(note, (w as i32 - 8, h as i32 - 4), style))?;
    Ok(())
}

/// Draw `fig` as SVG and as PNG; `name` is the file stem, `axis_labels` and `legend` the texts
/// as drawn.
pub(super) fn render(
    name: &str,
    title: &str,
    axis_labels: Vec<String>,
    legend: Vec<String>,
    fig: &impl Figure,
) -> Result<Chart> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        fig.draw(&root)
            .and_then(|_| draw_note(&root))
            .map_err(|e| anyhow!("drawing chart {name} (SVG): {e}"))?;
        root.present()
            .map_err(|e| anyhow!("drawing chart {name} (SVG): {e}"))?;
    }
    let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        fig.draw(&root)
            .and_then(|_| draw_note(&root))
            .map_err(|e| anyhow!("drawing chart {name} (PNG): {e}"))?;
        root.present()
            .map_err(|e| anyhow!("drawing chart {name} (PNG): {e}"))?;
    }
    Ok(Chart {
        name: name.into(),
        title: title.into(),
        axis_labels,
        legend,
        svg,
        png: encode_png(&rgb, SIZE)?,
    })
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The frame: title + body + legend row.

#[derive(Debug, Clone, Copy)]
pub(super) enum Swatch {
    Box(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
}

#[derive(Debug, Clone)]
pub(super) struct LegendItem {
    pub label: String,
    swatch: Swatch,
}

impl LegendItem {
    pub(super) fn new(label: impl Into<String>, swatch: Swatch) -> LegendItem {
        LegendItem {
            label: label.into(),
            swatch,
        }
    }
}

/// Where legend items go: (item, x, row), and the number of rows.
type LegendPlacement = (Vec<(usize, i32, i32)>, i32);

/// Lay the legend out in rows under the plot.
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> Result<LegendPlacement, DrawingAreaErrorKind<DB::ErrorType>> {
    let width = area.dim_in_pixel().0 as i32 - 40;
    let style = font(LEGEND_PX);
    let (mut x, mut row) = (0i32, 0i32);
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let (tw, _) = area.estimate_text_size(&it.label, &style)?;
        let w = 30 + tw as i32 + 30;
        if x > 0 && x + w > width {
            x = 0;
            row += 1;
        }
        out.push((i, x, row));
        x += w;
    }
    let rows = if items.is_empty() { 0 } else { row + 1 };
    Ok((out, rows))
}

/// Title on top, legend rows at the bottom; returns the area left for the plot.
pub(super) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendItem],
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let body = root.margin(14, 6, 6, 6).titled(title, font(TITLE_PX))?;
    let (placed, rows) = legend_layout(&body, legend)?;
    let h = body.dim_in_pixel().1 as i32;
    let legend_h = if rows == 0 { 0 } else { rows * LEGEND_ROW + 12 };
    let (plot, leg) = body.split_vertically(h - legend_h);
    let style = font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, x, row) in placed {
        let it = &legend[i];
        let x = x + 20;
        let y = row * LEGEND_ROW + LEGEND_ROW / 2 + 4;
        draw_swatch(&leg, it.swatch, x, y)?;
        leg.draw(&Text::new(it.label.clone(), (x + 30, y), style.clone()))?;
    }
    Ok(plot)
}

/// The small box or line in front of a legend label, centred on row `y` from `x`.
fn draw_swatch<DB: DrawingBackend>(
    leg: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    x: i32,
    y: i32,
) -> DrawResult<DB> {
    match swatch {
        Swatch::Box(c) => leg.draw(&Rectangle::new([(x, y - 9), (x + 22, y + 9)], c.filled())),
        Swatch::Line(c) => leg.draw(&PathElement::new(
            vec![(x, y), (x + 22, y)],
            c.stroke_width(4),
        )),
        Swatch::Dashed(c) => {
            leg.draw(&PathElement::new(
                vec![(x, y), (x + 8, y)],
                c.stroke_width(3),
            ))?;
            leg.draw(&PathElement::new(
                vec![(x + 14, y), (x + 22, y)],
                c.stroke_width(3),
            ))
        }
    }
}

pub(super) fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    msg: &str,
) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        msg.to_string(),
        (w as i32 / 2, h as i32 / 2),
        font(AXIS_PX).pos(Pos::new(HPos::Center, VPos::Center)),
    ))
}
