//! Charts drawn on the server as SVG: columns over time and bars by name. Each chart is
//! a picture with a title for screen readers; the page puts its numbers in a table
//! beneath, which is what assistive technology and a phone reader use.

use std::fmt::Write;

use super::map::escape;

/// Drawing size in SVG units (scaled to the page by CSS).
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 220.0;
/// Room for the value axis, the labels beneath and the legend above.
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 24.0;
/// Labels drawn beneath the columns at most; the table has them all.
const MOST_LABELS: usize = 8;

/// One series of values: its name (the legend) and a value per column, `None` where
/// there is nothing to draw.
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A round step for an axis up to `max` in about four steps.
fn step(max: f64) -> f64 {
    let raw = (max / 4.0).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude)
}

/// A value as an axis shows it: whole numbers without decimals.
fn tick(v: f64) -> String {
    if v.fract().abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn open(title: &str) -> String {
    let t = escape(title);
    format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#
    )
}

/// Columns side by side for each label, one colour per series, on a value axis from
/// zero (to `max` when given, e.g. 100 for percentages).
pub fn columns(title: &str, labels: &[String], series: &[Series], max: Option<f64>) -> String {
    let mut out = open(title);
    let top = max
        .unwrap_or_else(|| series.iter().flat_map(|s| s.values.iter().flatten()).copied().fold(0.0, f64::max).max(1.0));
    let step = step(top);
    let top = (top / step).ceil() * step;
    let (plot_w, plot_h) = (WIDTH - LEFT - 8.0, HEIGHT - TOP - BOTTOM);
    let y = |v: f64| TOP + plot_h - v / top * plot_h;
    let mut v = 0.0;
    while v <= top + 1e-9 {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - 8.0,
            LEFT - 4.0,
            y(v) + 4.0,
            tick(v),
            y = y(v)
        );
        v += step;
    }
    let n = labels.len().max(1);
    let slot = plot_w / n as f64;
    let width = (slot * 0.8 / series.len().max(1) as f64).max(1.0);
    for (s, one) in series.iter().enumerate() {
        for (i, value) in one.values.iter().enumerate() {
            let Some(value) = value else { continue };
            let x = LEFT + slot * i as f64 + slot * 0.1 + width * s as f64;
            let top_y = y(value.min(top));
            let _ = write!(
                out,
                r#"<rect class="s{s}" x="{x:.1}" y="{top_y:.1}" width="{width:.1}" height="{:.1}"/>"#,
                (TOP + plot_h - top_y).max(0.0)
            );
        }
    }
    let every = n.div_ceil(MOST_LABELS);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let x = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            r#"<text class="axis" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            HEIGHT - 10.0,
            escape(label)
        );
    }
    legend(&mut out, series);
    out + "</svg>"
}

/// The series' names and colours along the top.
fn legend(out: &mut String, series: &[Series]) {
    if series.len() < 2 {
        return;
    }
    let mut x = LEFT;
    for (s, one) in series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect class="s{s}" x="{x:.1}" y="6" width="12" height="12"/><text class="axis" x="{:.1}" y="16">{}</text>"#,
            x + 16.0,
            escape(&one.name)
        );
        // Wide enough for the phone's larger type (see staff.css).
        x += 28.0 + 10.0 * one.name.chars().count() as f64;
    }
}

/// A bar per row, longest first as given, each with its label and value. Narrower than
/// the columns, so that its labels stay legible at a phone's width.
pub fn bars(title: &str, rows: &[(String, f64)]) -> String {
    const ROW: f64 = 22.0;
    const WIDE: f64 = 360.0;
    const LABEL: f64 = 150.0;
    let height = ROW * rows.len().max(1) as f64 + 8.0;
    let t = escape(title);
    let mut out = format!(
        r#"<svg class="chart bars" viewBox="0 0 {WIDE} {height}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#
    );
    let most = rows.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let room = WIDE - LABEL - 40.0;
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let w = (value / most * room).max(if *value > 0.0 { 1.0 } else { 0.0 });
        // At the axis's type size, about 19 characters fill the room for a label.
        let short: String = label.chars().take(19).collect();
        let short = if short.len() < label.len() { format!("{short}…") } else { short };
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="s0" x="{LABEL}" y="{:.1}" width="{w:.1}" height="{:.1}"/><text class="axis" x="{:.1}" y="{:.1}">{}</text>"#,
            LABEL - 6.0,
            y + 15.0,
            escape(&short),
            y + 3.0,
            ROW - 6.0,
            LABEL + w + 4.0,
            y + 15.0,
            tick((value * 10.0).round() / 10.0)
        );
    }
    out + "</svg>"
}

/// A grid of shaded squares: a row per `rows` label, a column per `columns` label
/// (every third labelled), each square darker the larger its value in `values`
/// (rows of columns).
pub fn heat(title: &str, rows: &[String], columns: &[String], values: &[Vec<f64>]) -> String {
    const LABEL: f64 = 40.0;
    const SQUARE: f64 = 18.0;
    let wide = LABEL + SQUARE * columns.len() as f64 + 4.0;
    let high = 18.0 + SQUARE * rows.len() as f64 + 4.0;
    let t = escape(title);
    let mut out = format!(
        r#"<svg class="chart heat" viewBox="0 0 {wide} {high}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#
    );
    for (j, label) in columns.iter().enumerate().step_by(3) {
        let x = LABEL + SQUARE * j as f64 + SQUARE / 2.0;
        let _ = write!(out, r#"<text class="axis" x="{x:.1}" y="12" text-anchor="middle">{}</text>"#, escape(label));
    }
    let most = values.iter().flatten().copied().fold(0.0, f64::max).max(1e-9);
    for (i, label) in rows.iter().enumerate() {
        let y = 18.0 + SQUARE * i as f64;
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL - 4.0,
            y + 13.0,
            escape(label)
        );
        for (j, v) in values.get(i).into_iter().flatten().enumerate() {
            let x = LABEL + SQUARE * j as f64;
            let _ = write!(
                out,
                r#"<rect class="s0" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill-opacity="{:.2}"/>"#,
                SQUARE - 1.0,
                SQUARE - 1.0,
                0.06 + 0.94 * (v / most).clamp(0.0, 1.0)
            );
        }
    }
    out + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_step_in_round_numbers_and_labels_are_escaped() {
        assert_eq!(step(100.0), 25.0);
        assert_eq!(step(7.0), 2.0);
        assert_eq!(step(1300.0), 500.0);
        let svg = columns(
            "Opened <and> closed",
            &["W1".into(), "W2".into()],
            &[Series { name: "Opened".into(), values: vec![Some(3.0), None] }],
            None,
        );
        assert!(svg.contains("aria-label=\"Opened &lt;and&gt; closed\""));
        assert_eq!(svg.matches("<rect").count(), 1, "a missing value draws nothing");
        let svg = bars("Most frequent", &[("Pothole & crack".into(), 12.0), ("Graffiti".into(), 0.0)]);
        assert!(svg.contains("Pothole &amp; crack"));
    }
}
