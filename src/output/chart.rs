//! The story as one SVG chart, for people: records per snapshot (assigned, and unassigned or
//! reserved, stacked from zero) above, changes per year (bars) below, both on one axis of
//! years, so a year's bars stand under its stretch of the curve.
//!
//! Drawn with plotters' SVG backend, without a font crate: text is SVG `<text>` that the
//! viewer sets in its sans-serif, and plotters only estimates its width to lay out the
//! legends (docs/performance.md has what the crate costs to build). The first and latest
//! record counts are written on the curve, and each bar's value over it, so the story reads
//! without the scales.

use crate::model::Registry;
use crate::stats::{SnapshotPoint, Story, YearStats};
use chrono::{Datelike, NaiveDate};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 960;
const HEIGHT: u32 = 800;
/// Left of each plot: the y labels and the axis description.
const Y_LABEL_AREA: u32 = 76;
const X_LABEL_AREA: u32 = 46;
/// Around each panel's plot.
const PLOT_MARGIN: u32 = 10;
/// Above each panel's plot: its title and legend.
const PANEL_HEADER: u32 = 30;
/// Up to this many snapshots, each is marked on the curves.
const MARKED_SNAPSHOTS: usize = 60;

const FONT: &str = "sans-serif";
const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
const GRID: RGBColor = RGBColor(0xe3, 0xe3, 0xe3);
const ASSIGNED: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
const ASSIGNED_EDGE: RGBColor = RGBColor(0x2f, 0x4f, 0x6f);
const UNASSIGNED: RGBColor = RGBColor(0xc9, 0xc3, 0xbd);
const UNASSIGNED_EDGE: RGBColor = RGBColor(0x7f, 0x77, 0x70);

/// A series of bars: what its legend and tooltips say, its colour, its value in a year.
pub struct BarSeries {
    pub label: &'static str,
    pub color: RGBColor,
    pub value: fn(&YearStats) -> i64,
}

/// The bars of each year, left to right.
pub const BAR_SERIES: [BarSeries; 3] = [
    BarSeries {
        label: "newly assigned",
        color: RGBColor(0x59, 0xa1, 0x4f),
        value: |y| y.newly_assigned,
    },
    BarSeries {
        label: "de-assigned or reserved",
        color: RGBColor(0xe1, 0x57, 0x59),
        value: |y| y.deassigned,
    },
    BarSeries {
        label: "modified",
        color: RGBColor(0xb0, 0x7a, 0xa1),
        value: |y| y.modified,
    },
];

/// The legend of the records panel, bottom band first.
fn record_series(registry: Registry) -> [(String, RGBColor); 2] {
    [
        (format!("assigned ({})", registry.record_name()), ASSIGNED),
        ("unassigned or reserved".to_string(), UNASSIGNED),
    ]
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Why the chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

/// A plotters failure as the chart's error (drawing into a string cannot fail, but the API
/// says it may).
fn failed(error: impl std::fmt::Display) -> ChartError {
    ChartError(error.to_string())
}

/// The chart of a story, as an SVG document. An empty story gives a chart that says so.
pub fn svg(story: &Story) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        draw(&root, story)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

fn draw(root: &Area, story: &Story) -> Result<(), ChartError> {
    let left = (PLOT_MARGIN + Y_LABEL_AREA) as i32;
    let (Some(first), Some(last)) = (story.snapshots.first(), story.snapshots.last()) else {
        let title = format!("The IANA {}", story.registry.subject());
        text(root, &title, (left, 16), title_font(20), top_left())?;
        let note = "No snapshots stored yet.";
        return text(root, note, (left, 58), font(13).color(&MUTED), top_left());
    };
    let years = Years::new(first.registry_date.year(), last.registry_date.year());
    let title = format!("The IANA {}, {}", story.registry.subject(), years.span());
    text(root, &title, (left, 16), title_font(20), top_left())?;
    let summary = if story.snapshots.len() == 1 {
        format!(
            "1 snapshot, of {}: {} records.",
            first.registry_date,
            thousands(first.records)
        )
    } else {
        format!(
            "{} snapshots from {} to {}: {} records, then {} ({:+}).",
            thousands(story.snapshots.len() as i64),
            first.registry_date,
            last.registry_date,
            thousands(first.records),
            thousands(last.records),
            last.records - first.records
        )
    };
    text(
        root,
        &summary,
        (left, 44),
        font(13).color(&MUTED),
        top_left(),
    )?;
    let notes = [
        "Changes are counted between consecutive snapshots and grouped as `portreg changes` \
         groups them."
            .to_string(),
        if years.first == years.last {
            format!(
                "{} counts from the first snapshot ({}) up to the latest ({}). \
                 Drawn by `portreg stats --svg`.",
                years.first, first.registry_date, last.registry_date
            )
        } else {
            format!(
                "{} counts from the first snapshot ({}), {} up to the latest ({}). \
                 Drawn by `portreg stats --svg`.",
                years.first, first.registry_date, years.last, last.registry_date
            )
        },
    ];
    for (line, note) in notes.iter().enumerate() {
        let y = HEIGHT as i32 - 38 + 16 * line as i32;
        text(root, note, (left, y), font(11).color(&MUTED), top_left())?;
    }
    let body = root.margin(68, 46, 0, 14);
    let (upper, lower) = body.split_vertically(body.dim_in_pixel().1 / 2);
    records_panel(&upper, story, &years)?;
    changes_panel(&lower, &story.years, &years)?;
    Ok(())
}

/// The years the chart spans, as its x axis: from 1 January of the first to 1 January after
/// the last, in fractional years.
struct Years {
    first: i32,
    last: i32,
}

impl Years {
    fn new(first: i32, last: i32) -> Years {
        Years { first, last }
    }

    fn count(&self) -> usize {
        (self.last - self.first + 1).max(1) as usize
    }

    fn range(&self) -> std::ops::Range<f64> {
        f64::from(self.first)..f64::from(self.last + 1)
    }

    /// A date as a fractional year: 2024-07-02 is about 2024.5.
    fn x(date: NaiveDate) -> f64 {
        let days_in_year = if date.leap_year() { 366.0 } else { 365.0 };
        f64::from(date.year()) + f64::from(date.ordinal0()) / days_in_year
    }

    /// "2017–2025", or "2025" for one year.
    fn span(&self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}\u{2013}{}", self.first, self.last)
        }
    }

    /// A tick's label: the year that starts there, none past the last.
    fn label(&self, x: f64) -> String {
        let year = x.round();
        if (x - year).abs() < 1e-6 && year <= f64::from(self.last) {
            format!("{year:.0}")
        } else {
            String::new()
        }
    }
}

/// A count axis's top: a round number at or above `max` (1, 2, 2.5 or 5 times a power of ten
/// per step, about six steps).
fn round_top(max: i64) -> i64 {
    let max = max.max(1);
    let rough = max as f64 / 6.0;
    let power = 10f64.powf(rough.log10().floor()).max(1.0);
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&s| s >= rough && s.fract() == 0.0)
        .unwrap_or(10.0 * power) as i64;
    let step = step.max(1);
    (max + step - 1) / step * step
}

fn records_panel(area: &Area, story: &Story, years: &Years) -> Result<(), ChartError> {
    let (header, body) = area.split_vertically(PANEL_HEADER);
    let series = record_series(story.registry);
    let legend: Vec<(&str, RGBColor)> = series.iter().map(|(l, c)| (l.as_str(), *c)).collect();
    panel_header(&header, "Records in each snapshot", &legend)?;
    let points = &story.snapshots;
    let top = round_top(points.iter().map(|p| p.records).max().unwrap_or(0));
    let mut chart = plot(&body, years, top as f64)?;
    axes(&mut chart, years, "records", "registry date")?;
    let assigned = |p: &SnapshotPoint| (Years::x(p.registry_date.date()), p.assigned as f64);
    let total = |p: &SnapshotPoint| (Years::x(p.registry_date.date()), p.records as f64);
    // The total's area first, the assigned area over it: what shows of the first is the
    // unassigned or reserved band.
    chart
        .draw_series(
            AreaSeries::new(points.iter().map(total), 0.0, UNASSIGNED.filled())
                .border_style(UNASSIGNED_EDGE.stroke_width(2)),
        )
        .map_err(failed)?;
    chart
        .draw_series(
            AreaSeries::new(points.iter().map(assigned), 0.0, ASSIGNED.filled())
                .border_style(ASSIGNED_EDGE.stroke_width(2)),
        )
        .map_err(failed)?;
    // Few snapshots: each one marked, so the stretches between them read as gaps in the data.
    if points.len() <= MARKED_SNAPSHOTS {
        for (edge, color) in [
            (total as fn(&SnapshotPoint) -> (f64, f64), UNASSIGNED_EDGE),
            (assigned, ASSIGNED_EDGE),
        ] {
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| Circle::new(edge(p), 3, color.filled())),
                )
                .map_err(failed)?;
        }
    }
    // The first and latest counts on the curve, so the growth reads without the scale; the
    // assigned one inside its area (white), unless one snapshot makes no area.
    let mut ends = vec![&points[0]];
    if points.len() > 1 {
        ends.push(&points[points.len() - 1]);
    }
    let across = chart.plotting_area().get_pixel_range().0;
    let middle = (across.start + across.end) / 2;
    let inside = if points.len() > 1 { WHITE } else { TEXT };
    for point in ends {
        let on_chart = chart.backend_coord(&total(point));
        let (side, dx) = if on_chart.0 > middle {
            (HPos::Right, -4)
        } else {
            (HPos::Left, 4)
        };
        let (x, y) = within(area, on_chart);
        let label = format!("{} records", thousands(point.records));
        let at = (x + dx, y - 6);
        text(
            area,
            &label,
            at,
            title_font(12),
            Pos::new(side, VPos::Bottom),
        )?;
        let (x, y) = within(area, chart.backend_coord(&assigned(point)));
        let label = format!("{} assigned", thousands(point.assigned));
        let at = (x + dx, y + 8);
        text(
            area,
            &label,
            at,
            font(12).color(&inside),
            Pos::new(side, VPos::Top),
        )?;
    }
    Ok(())
}

fn changes_panel(area: &Area, rows: &[YearStats], years: &Years) -> Result<(), ChartError> {
    let (header, body) = area.split_vertically(PANEL_HEADER);
    let legend: Vec<(&str, RGBColor)> = BAR_SERIES.iter().map(|s| (s.label, s.color)).collect();
    panel_header(&header, "Changes per year", &legend)?;
    let max = rows
        .iter()
        .flat_map(|row| BAR_SERIES.iter().map(move |s| (s.value)(row)))
        .max()
        .unwrap_or(0);
    let mut chart = plot(&body, years, round_top(max) as f64)?;
    axes(
        &mut chart,
        years,
        "changes in the year",
        "year (of the registry date)",
    )?;
    // Each year's bars side by side in the middle 72% of its stretch.
    let group = 0.72;
    let bar = group / BAR_SERIES.len() as f64;
    for (i, series) in BAR_SERIES.iter().enumerate() {
        let left = |row: &YearStats| f64::from(row.year) + (1.0 - group) / 2.0 + bar * i as f64;
        chart
            .draw_series(rows.iter().map(|row| {
                let value = (series.value)(row) as f64;
                let x = left(row);
                Rectangle::new([(x, 0.0), (x + bar * 0.94, value)], series.color.filled())
            }))
            .map_err(failed)?;
        for row in rows {
            let value = (series.value)(row);
            let (x0, y) = within(area, chart.backend_coord(&(left(row), value as f64)));
            let (x1, _) = within(area, chart.backend_coord(&(left(row) + bar * 0.94, 0.0)));
            // Values over the bars, where they fit.
            if x1 - x0 >= 18 {
                let style = font(10).color(&MUTED);
                let at = ((x0 + x1) / 2, y - 3);
                text(
                    area,
                    &thousands(value),
                    at,
                    style,
                    Pos::new(HPos::Center, VPos::Bottom),
                )?;
            }
        }
    }
    Ok(())
}

type Chart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A plot of the years across and counts from 0 to `top` up.
fn plot<'a>(area: &Area<'a>, years: &Years, top: f64) -> Result<Chart<'a>, ChartError> {
    ChartBuilder::on(area)
        .margin(PLOT_MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(years.range(), 0.0..top)
        .map_err(failed)
}

/// Grid lines at the counts, year boundaries as ticks with each year's label under the
/// middle of its stretch, and the axes' descriptions.
fn axes(chart: &mut Chart, years: &Years, y_desc: &str, x_desc: &str) -> Result<(), ChartError> {
    let year_width = chart.plotting_area().dim_in_pixel().0 as f64 / years.count() as f64;
    // Counts are whole: a tick between two (a scale of 0 to 1) has no label.
    let count_label = |value: &f64| {
        if (value - value.round()).abs() < 1e-6 {
            thousands(value.round() as i64)
        } else {
            String::new()
        }
    };
    let year_label = |x: &f64| years.label(*x);
    // Up to 7, and not more than the whole numbers up to the top.
    let y_labels = (chart.y_range().end.max(0.0) as usize + 1).min(7);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(TEXT)
        .x_labels(years.count() + 1)
        .x_label_offset((year_width / 2.0) as i32)
        .x_label_formatter(&year_label)
        .y_labels(y_labels)
        .y_label_formatter(&count_label)
        .label_style(font(12).color(&TEXT))
        .axis_desc_style(font(13).color(&TEXT))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(failed)
}

/// A panel's title on the left and its legend (colour swatches and labels) on the right.
fn panel_header(area: &Area, title: &str, legend: &[(&str, RGBColor)]) -> Result<(), ChartError> {
    let (width, height) = area.dim_in_pixel();
    let middle = height as i32 / 2 + 2;
    let left = (PLOT_MARGIN + Y_LABEL_AREA) as i32;
    let center_left = Pos::new(HPos::Left, VPos::Center);
    text(area, title, (left, middle), title_font(15), center_left)?;
    let label_style = font(12).color(&TEXT);
    let widths: Vec<i32> = legend
        .iter()
        .map(|(label, _)| {
            let (w, _) = area
                .estimate_text_size(label, &label_style)
                .unwrap_or((0, 0));
            12 + 6 + w as i32
        })
        .collect();
    let gap = 18;
    let total = widths.iter().sum::<i32>() + gap * (widths.len() as i32 - 1);
    let mut x = width as i32 - PLOT_MARGIN as i32 - total;
    for ((label, color), w) in legend.iter().zip(widths) {
        area.draw(&Rectangle::new(
            [(x, middle - 6), (x + 12, middle + 6)],
            color.filled(),
        ))
        .map_err(failed)?;
        text(
            area,
            label,
            (x + 18, middle),
            label_style.clone(),
            center_left,
        )?;
        x += w + gap;
    }
    Ok(())
}

/// Plotters writes a font of size S as `font-size` S / 1.24 in SVG: sizes here are the
/// pixels the SVG gets.
fn font_of(pixels: f64) -> FontDesc<'static> {
    (FONT, pixels * 1.24).into_font()
}

fn font(pixels: u32) -> TextStyle<'static> {
    TextStyle::from(font_of(f64::from(pixels))).color(&TEXT)
}

fn title_font(pixels: u32) -> TextStyle<'static> {
    TextStyle::from(font_of(f64::from(pixels)).style(FontStyle::Bold)).color(&TEXT)
}

fn top_left() -> Pos {
    Pos::new(HPos::Left, VPos::Top)
}

/// Text at a pixel of `area` (counted from its top left corner), anchored at `pos`.
fn text(
    area: &Area,
    content: &str,
    at: (i32, i32),
    style: TextStyle,
    pos: Pos,
) -> Result<(), ChartError> {
    area.draw_text(content, &style.pos(pos), at).map_err(failed)
}

/// A pixel of the whole chart (as a plot's `backend_coord` gives it) as a pixel of `area`.
fn within(area: &Area, (x, y): (i32, i32)) -> (i32, i32) {
    let (x0, y0) = area.get_base_pixel();
    (x - x0, y - y0)
}

/// 14496 -> "14,496".
pub fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        grouped.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(14496), "14,496");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }

    #[test]
    fn count_axes_end_on_a_round_number_at_or_above_the_maximum() {
        for (max, top) in [(14496, 15000), (131, 150), (76, 80), (5, 5), (0, 1)] {
            assert_eq!(round_top(max), top, "max {max}");
        }
    }

    #[test]
    fn year_ticks_are_labelled_up_to_the_last_year() {
        let years = Years::new(2017, 2025);
        assert_eq!(years.label(2017.0), "2017");
        assert_eq!(years.label(2025.0), "2025");
        assert_eq!(years.label(2026.0), "");
        assert_eq!(years.label(2020.5), "");
        assert_eq!(years.span(), "2017\u{2013}2025");
        let x = Years::x(NaiveDate::from_ymd_opt(2024, 7, 2).unwrap());
        assert!((x - 2024.5).abs() < 0.01, "{x}");
    }

    #[test]
    fn one_snapshot_is_a_marked_point_with_its_counts() {
        let date = NaiveDate::from_ymd_opt(2025, 12, 15).unwrap();
        let point = SnapshotPoint {
            id: crate::store::SnapshotId(1),
            registry_date: crate::model::RegistryDate::new(date),
            records: 14496,
            assigned: 12778,
            unassigned_or_reserved: 1718,
            added: 0,
            removed: 0,
            modified: 0,
            newly_assigned: 0,
            deassigned: 0,
        };
        let years = crate::stats::years(std::slice::from_ref(&point));
        let svg = svg(&Story {
            registry: crate::model::Registry::Services,
            snapshots: vec![point],
            years,
        })
        .unwrap();
        for text in [
            "service name and port number registry, 2025",
            "1 snapshot, of 2025-12-15: 14,496 records.",
            "14,496 records",
            "12,778 assigned",
        ] {
            assert!(svg.contains(text), "no {text:?} in {svg}");
        }
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
    }

    #[test]
    fn an_empty_story_draws_a_chart_that_says_so() {
        let svg = svg(&Story {
            registry: crate::model::Registry::Services,
            snapshots: Vec::new(),
            years: Vec::new(),
        })
        .unwrap();
        assert!(svg.contains("No snapshots stored yet."), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
