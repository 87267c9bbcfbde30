//! Charts of a run, drawn with plotters: SVG always, PNG on request. Text is laid out with a
//! bundled font (DejaVu Sans), so no system font library is needed and output is the same on
//! every machine.
//!
//! Time series are drawn as time averages over at most [`BINS`] equal bins, computed exactly
//! from the step functions, so a million-point series draws as a few hundred points without
//! losing its area.

use plotters::coord::Shift;
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::prelude::*;
use std::path::Path;

/// Bins per time series.
pub const BINS: usize = 400;
/// At most this many teams are drawn one by one; the rest are summed as "other".
pub const MAX_TEAMS: usize = 12;
/// Chart size in pixels.
pub const SIZE: (u32, u32) = (900, 420);

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bundled font is a valid TrueType file; a failure here is a build defect.
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the bundled font does not load"));
    });
}

/// A named series of time averages: (bin centre in hours since the start, mean value), one
/// point per bin, as [`Binner`] gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct Binned {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Time averages of a step function over `bins` equal bins of `[0, end)`, fed one step at a
/// time (value from each time until the next), so that a series need not be held whole.
#[derive(Clone, Debug)]
pub struct Binner {
    end: f64,
    width: f64,
    area: Vec<f64>,
    /// The last step, open until the next one (or `end`).
    open: Option<(f64, f64)>,
}

impl Binner {
    pub fn new(end: f64, bins: usize) -> Binner {
        let bins = if end > 0.0 { bins } else { 0 };
        Binner {
            end,
            width: end / bins as f64,
            area: vec![0.0; bins],
            open: None,
        }
    }

    /// The function steps to `v` at `t` (times in order).
    pub fn push(&mut self, t: f64, v: f64) {
        if let Some(step) = self.open.replace((t, v)) {
            self.close(step, t);
        }
    }

    /// Adds the area of the step `(t, v)` up to `next`.
    fn close(&mut self, (t, v): (f64, f64), next: f64) {
        let until = next.min(self.end);
        if until <= t || v == 0.0 || self.area.is_empty() {
            return;
        }
        let w = self.width;
        let (first, last) = ((t / w) as usize, ((until / w) as usize).min(self.area.len() - 1));
        for (b, a) in self.area.iter_mut().enumerate().take(last + 1).skip(first) {
            let lo = t.max(b as f64 * w);
            let hi = until.min((b + 1) as f64 * w);
            if hi > lo {
                *a += v * (hi - lo);
            }
        }
    }

    /// The averages: (bin centre, mean value) per bin.
    pub fn finish(mut self) -> Vec<(f64, f64)> {
        if let Some(step) = self.open.take() {
            self.close(step, self.end);
        }
        let w = self.width;
        (self.area.iter().enumerate())
            .map(|(b, a)| ((b as f64 + 0.5) * w, a / w))
            .collect()
    }
}

/// A line with a band around it: (x, y, band low, band high) per point, in x order.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub name: String,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Colours by name, so that a team (or its queue) has one colour on every chart of a page:
/// a name's index picks it from the palette. Names it does not hold take the colours after
/// them in the order of the chart's series; "other (N ...)" is grey and [`ALL_JOBS`] black.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Colors(pub std::collections::BTreeMap<String, usize>);

impl Colors {
    /// The names in order, each its own colour.
    pub fn of<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Colors {
        Colors(
            names
                .into_iter()
                .enumerate()
                .map(|(k, n)| (n.into(), k))
                .collect(),
        )
    }

    fn color(&self, name: &str, k: usize) -> RGBColor {
        match self.0.get(name) {
            Some(&i) => color(i),
            None if name.starts_with("other (") => RGBColor(150, 150, 150),
            None if name == ALL_JOBS => BLACK,
            None => color(self.0.len() + k),
        }
    }
}

/// The series of every job, beside the teams' (a wait CDF's).
pub const ALL_JOBS: &str = "all jobs";

/// A chart could not be drawn (or its PNG written).
#[derive(Debug, thiserror::Error)]
#[error("{chart}: {message}")]
pub struct ChartError {
    /// The chart's name, or the PNG's path.
    pub chart: String,
    pub message: String,
}

/// A chart: its file stem, title, and what it draws.
pub enum Chart {
    /// Lines over a numeric x axis, each with a shaded band (e.g. a sweep's seed spread).
    Bands {
        stem: &'static str,
        title: String,
        x_desc: String,
        y_desc: String,
        series: Vec<Band>,
        /// The metric on the y axis, whose units label its ticks (durations in s/m/h/d,
        /// fractions in %); `None`: plain numbers.
        y_metric: Option<&'static crate::metric::Metric>,
        /// A bound to draw across the chart (a plan's target).
        target: Option<f64>,
    },
    /// Stacked areas (e.g. GPUs allocated per team) under an optional capacity line.
    Stacked {
        stem: &'static str,
        title: String,
        y_desc: String,
        series: Vec<Binned>,
        end_h: f64,
        capacity: Option<f64>,
        colors: Colors,
    },
    /// One line per series.
    Lines {
        stem: &'static str,
        title: String,
        y_desc: String,
        series: Vec<Binned>,
        end_h: f64,
        colors: Colors,
    },
    /// Cumulative distributions: each series is sorted sample values (hours).
    Cdf {
        stem: &'static str,
        title: String,
        x_desc: String,
        series: Vec<(String, Vec<f64>)>,
        colors: Colors,
    },
    /// Bars per category, with an optional outline per category (e.g. entitlement).
    Bars {
        stem: &'static str,
        title: String,
        y_desc: String,
        bar_name: String,
        outline_name: String,
        rows: Vec<(String, f64, Option<f64>)>,
        horizontal: bool,
        /// The values are fractions, ticked as percentages.
        percent: bool,
    },
}

impl Chart {
    pub fn stem(&self) -> &'static str {
        match self {
            Chart::Bands { stem, .. }
            | Chart::Stacked { stem, .. }
            | Chart::Lines { stem, .. }
            | Chart::Cdf { stem, .. }
            | Chart::Bars { stem, .. } => stem,
        }
    }
    pub fn title(&self) -> &str {
        match self {
            Chart::Bands { title, .. }
            | Chart::Stacked { title, .. }
            | Chart::Lines { title, .. }
            | Chart::Cdf { title, .. }
            | Chart::Bars { title, .. } => title,
        }
    }

    /// The chart as an SVG document.
    pub fn svg(&self) -> Result<String, ChartError> {
        register_font();
        let mut out = String::new();
        {
            let err = |e: &dyn std::fmt::Display| ChartError {
                chart: self.stem().to_string(),
                message: e.to_string(),
            };
            let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
            self.draw(&root).map_err(|e| err(&e))?;
            root.present().map_err(|e| err(&e))?;
        }
        Ok(out)
    }

    /// The chart as a PNG file at `path`, drawn to a temporary file and renamed into place.
    pub fn png(&self, path: &Path) -> Result<(), ChartError> {
        register_font();
        let chart_err = |message: String| ChartError {
            chart: path.display().to_string(),
            message,
        };
        // Created exclusively first, so the drawing never writes through a planted link.
        let (tmp, file) = crate::output::temp(path).map_err(|e| chart_err(e.message))?;
        drop(file);
        let drawn = (|| {
            let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())
        })();
        if let Err(m) = drawn {
            let _ = std::fs::remove_file(&tmp);
            return Err(chart_err(m));
        }
        crate::output::commit(&tmp, path).map_err(|e| chart_err(e.message))
    }

    fn draw<'a, DB: DrawingBackend + 'a>(&self, root: &'a DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        // Titles and axis names may hold names too.
        let one_line = |s: &String| crate::escape::terminal(s).into_owned();
        match self {
            Chart::Bands {
                title,
                x_desc,
                y_desc,
                series,
                y_metric,
                target,
                ..
            } => bands(
                root,
                &one_line(title),
                &one_line(x_desc),
                &one_line(y_desc),
                series,
                *y_metric,
                *target,
            ),
            Chart::Stacked {
                title,
                y_desc,
                series,
                end_h,
                capacity,
                colors,
                ..
            } => stacked(
                root,
                &one_line(title),
                &one_line(y_desc),
                series,
                (*end_h, *capacity),
                colors,
            ),
            Chart::Lines {
                title,
                y_desc,
                series,
                end_h,
                colors,
                ..
            } => lines(root, &one_line(title), &one_line(y_desc), series, *end_h, colors),
            Chart::Cdf {
                title,
                x_desc,
                series,
                colors,
                ..
            } => cdf(root, &one_line(title), &one_line(x_desc), series, colors),
            Chart::Bars {
                title,
                y_desc,
                bar_name,
                outline_name,
                rows,
                horizontal,
                percent,
                ..
            } => bars(
                root,
                &one_line(title),
                (&one_line(y_desc), *percent),
                &one_line(bar_name),
                &one_line(outline_name),
                rows,
                *horizontal,
            ),
        }
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn color(i: usize) -> RGBColor {
    let c = Palette99::pick(i).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

fn nice_max(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v * 1.08 } else { 1.0 }
}

/// Keeps labels readable in legends and axes: on one line, control characters shown (the SVG
/// stays well-formed XML; the backend escapes markup), long ones cut.
fn short(s: &str) -> String {
    cut(s, 40)
}

/// `s` on one line with control characters shown, cut to at most `max` characters (the last an
/// ellipsis when cut).
fn cut(s: &str, max: usize) -> String {
    let s = crate::escape::terminal(s);
    if s.chars().count() <= max {
        s.into_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn stacked<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    series: &[Binned],
    (end_h, capacity): (f64, Option<f64>),
    colors: &Colors,
) -> DrawResult<DB> {
    let (area, side) = with_side_legend(root, title)?;
    let (unit, x_desc) = time_axis(end_h);
    // Cumulative sums, bottom to top.
    let mut cum: Vec<Vec<(f64, f64)>> = Vec::with_capacity(series.len());
    for (k, b) in series.iter().map(|s| &s.points).enumerate() {
        let next: Vec<(f64, f64)> = match cum.last() {
            None => b.clone(),
            Some(prev) => b.iter().zip(prev).map(|(p, q)| (p.0, p.1 + q.1)).collect(),
        };
        debug_assert_eq!(k, cum.len());
        cum.push(next);
    }
    let top = cum
        .last()
        .map_or(0.0, |c| c.iter().map(|p| p.1).fold(0.0, f64::max));
    let y_max = nice_max(top.max(capacity.unwrap_or(0.0)));
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..(end_h / unit).max(1e-9), 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(font(12))
        .axis_desc_style(font(13))
        .draw()?;
    let mut keys = Vec::new();
    for (k, s) in series.iter().enumerate().rev() {
        let c = colors.color(&s.name, k);
        let pts = cum[k].iter().map(|&(x, y)| (x / unit, y));
        chart.draw_series(AreaSeries::new(pts, 0.0, c.mix(0.85)).border_style(c))?;
        keys.push((s.name.clone(), c, Mark::Area));
    }
    // The legend reads top to bottom as the areas stack.
    if let Some(cap) = capacity {
        chart.draw_series(LineSeries::new(
            [(0.0, cap), (end_h / unit, cap)],
            BLACK.stroke_width(2),
        ))?;
        keys.insert(0, ("capacity".into(), BLACK, Mark::Line));
    }
    side_legend(&side, &keys)
}

/// How a legend entry is marked: a line or a filled area.
#[derive(Clone, Copy)]
enum Mark {
    Line,
    Area,
    /// An empty box (a bar's outline).
    Outline,
}

/// Draws the title over `root` and splits what is left into the plot and, on its right, the
/// legend's column, so that no legend covers the data.
fn with_side_legend<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
) -> Result<PlotAndLegend<DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let area = root.titled(title, font(18))?;
    let (w, _) = area.dim_in_pixel();
    Ok(area.split_horizontally(w.saturating_sub(LEGEND_W)))
}

/// The plot's area and its legend's column.
type PlotAndLegend<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

/// Width of the legend column beside a plot, pixels.
const LEGEND_W: u32 = 240;

/// The legend in its own column: a mark and the name per entry, top down.
fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    keys: &[(String, RGBColor, Mark)],
) -> DrawResult<DB> {
    for (k, (name, c, mark)) in keys.iter().enumerate() {
        let y = 24 + 18 * k as i32;
        match mark {
            Mark::Line => area.draw(&PathElement::new([(4, y), (20, y)], c.stroke_width(2)))?,
            Mark::Area => area.draw(&Rectangle::new([(4, y - 5), (20, y + 5)], c.filled()))?,
            Mark::Outline => area.draw(&Rectangle::new([(4, y - 5), (20, y + 5)], c.stroke_width(2)))?,
        }
        area.draw(&Text::new(legend_name(name), (26, y - 7), font(12)))?;
    }
    Ok(())
}

/// A name short enough for the legend column.
fn legend_name(s: &str) -> String {
    cut(s, 32)
}

/// The unit a duration axis from 0 to `top` seconds is drawn in: seconds per unit and its
/// suffix, the largest of d, h, m that the top holds at least twice.
fn duration_unit(top: f64) -> (f64, &'static str) {
    [(86_400.0, "d"), (3600.0, "h"), (60.0, "m")]
        .into_iter()
        .find(|(u, _)| top >= 2.0 * u)
        .unwrap_or((1.0, "s"))
}

/// The time axis of a run of `end_h` hours: in hours up to three days, else in days. Returns
/// the hours per axis unit and the axis name.
fn time_axis(end_h: f64) -> (f64, &'static str) {
    if end_h > 72.0 {
        (24.0, "days since the first submission")
    } else {
        (1.0, "hours since the first submission")
    }
}

/// A tick label without trailing zeros: whole numbers bare, others to at most two decimals.
fn tick(v: &f64) -> String {
    let v = *v;
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let t = format!("{v:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> DrawResult<DB> {
    legend_at(chart, SeriesLabelPosition::UpperRight)
}

fn legend_at<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    at: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(at)
        .label_font(font(12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

fn lines<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    series: &[Binned],
    end_h: f64,
    colors: &Colors,
) -> DrawResult<DB> {
    let (area, side) = with_side_legend(root, title)?;
    let (unit, x_desc) = time_axis(end_h);
    let top = (series.iter().flat_map(|s| &s.points))
        .map(|p| p.1)
        .fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..(end_h / unit).max(1e-9), 0f64..nice_max(top))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(font(12))
        .axis_desc_style(font(13))
        .draw()?;
    let mut keys = Vec::new();
    for (k, s) in series.iter().enumerate() {
        let c = colors.color(&s.name, k);
        let pts = s.points.iter().map(|&(x, y)| (x / unit, y));
        chart.draw_series(LineSeries::new(pts, c.stroke_width(2)))?;
        keys.push((s.name.clone(), c, Mark::Line));
    }
    side_legend(&side, &keys)
}

fn bands<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Band],
    y_metric: Option<&'static crate::metric::Metric>,
    target: Option<f64>,
) -> DrawResult<DB> {
    let all = || series.iter().flat_map(|s| s.points.iter());
    // Whole x values (node counts) read without ".0".
    let whole_x = all().all(|p| p.0 == p.0.trunc());
    let x_lo = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_hi = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (x_lo, x_hi) = if x_lo.is_finite() && x_hi > x_lo {
        (x_lo, x_hi)
    } else if x_lo.is_finite() {
        (x_lo - 1.0, x_lo + 1.0)
    } else {
        (0.0, 1.0)
    };
    let top = nice_max(
        all()
            .map(|p| p.3)
            .chain(target.map(|t| t * 1.1))
            .fold(0.0, f64::max),
    );
    // A duration axis is drawn in one unit (s, m, h or d, by its top), so its ticks fall on
    // round amounts of it: 0, 0.5h, 1h, ... rather than multiples of 50,000 s.
    let (unit, suffix) = match y_metric {
        Some(m) if m.unit == crate::metric::Unit::Seconds => duration_unit(top),
        _ => (1.0, ""),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, font(16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(x_lo..x_hi, 0f64..top / unit)?;
    let show = |v: f64| match y_metric {
        Some(m) => m.show(v),
        None => crate::html::num(v),
    };
    let y_label = |v: &f64| {
        if suffix.is_empty() {
            show(*v)
        } else {
            format!("{}{suffix}", tick(v))
        }
    };
    let x_label = |v: &f64| {
        if whole_x {
            format!("{v:.0}")
        } else {
            crate::html::num(*v)
        }
    };
    // Whole x values (node counts) get no more ticks than there are values, so no label repeats.
    let x_ticks = if whole_x {
        ((x_hi - x_lo).round() as usize + 1).clamp(2, 12)
    } else {
        10
    };
    chart
        .configure_mesh()
        .x_labels(x_ticks)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(font(12))
        .axis_desc_style(font(13))
        .draw()?;
    if let Some(t) = target {
        let text = format!("target {}", show(t));
        let t = t / unit;
        chart
            .draw_series(DashedLineSeries::new(
                [(x_lo, t), (x_hi, t)],
                8,
                5,
                BLACK.stroke_width(2),
            ))?
            .label(text)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLACK.stroke_width(2)));
    }
    for (k, s) in series.iter().enumerate() {
        let c = color(k);
        let band: Vec<(f64, f64)> = (s.points.iter().map(|p| (p.0, p.3 / unit)))
            .chain(s.points.iter().rev().map(|p| (p.0, p.2 / unit)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18))))?;
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.0, p.1 / unit)),
                c.stroke_width(2),
            ))?
            .label(short(&s.name))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], c.stroke_width(2)));
        chart.draw_series(
            s.points
                .iter()
                .map(|p| Circle::new((p.0, p.1 / unit), 3, c.filled())),
        )?;
    }
    legend(&mut chart)
}

/// At most this many points per CDF line.
const CDF_POINTS: usize = 500;

fn cdf<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    series: &[(String, Vec<f64>)],
    colors: &Colors,
) -> DrawResult<DB> {
    // Waits span seconds to weeks: a log axis in hours, from one minute (shorter waits, most of
    // them often 0, are drawn at one minute), ticked at 1 min, 10 min, 1 h, 6 h, 1 d, 1 w, 30 d
    // and 1 y as far as the longest wait.
    let longest = (series.iter())
        .filter_map(|s| s.1.last().copied())
        .fold(0.0, f64::max);
    let x_max = [1.0, 6.0, 24.0, 168.0, 720.0, 8760.0, 87_600.0]
        .into_iter()
        .find(|&h| h >= longest)
        .unwrap_or(longest);
    let ticks: Vec<f64> = [WAIT_FLOOR_H, 1.0 / 6.0, 1.0, 6.0, 24.0, 168.0, 720.0, 8760.0]
        .into_iter()
        .filter(|&h| h <= x_max)
        .collect();
    let (area, side) = with_side_legend(root, title)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(
            (WAIT_FLOOR_H..x_max).log_scale().with_key_points(ticks),
            0f64..1.0,
        )?;
    let hours = |h: &f64| crate::metric::duration((h * 3600.0).round());
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("share of jobs")
        .x_label_formatter(&hours)
        .y_label_formatter(&|v: &f64| format!("{:.0} %", v * 100.0))
        .label_style(font(12))
        .axis_desc_style(font(13))
        .draw()?;
    let mut keys = Vec::new();
    for (k, (name, v)) in series.iter().enumerate() {
        if v.is_empty() {
            continue;
        }
        let c = colors.color(name, k);
        let n = v.len();
        let step = n.div_ceil(CDF_POINTS).max(1);
        let mut pts = vec![(WAIT_FLOOR_H, 0.0)];
        // An empirical CDF is a step function: flat until each value, then up.
        for i in (0..n).step_by(step).chain(std::iter::once(n - 1)) {
            let x = v[i].max(WAIT_FLOOR_H);
            let below = pts.last().map_or(0.0, |p| p.1);
            pts.push((x, below));
            pts.push((x, (i + 1) as f64 / n as f64));
        }
        pts.push((x_max, 1.0));
        chart.draw_series(LineSeries::new(pts, c.stroke_width(2)))?;
        keys.push((name.clone(), c, Mark::Line));
    }
    side_legend(&side, &keys)
}

/// Where a wait CDF's log axis starts: one minute, in hours.
const WAIT_FLOOR_H: f64 = 1.0 / 60.0;

fn bars<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    (value_desc, percent): (&str, bool),
    bar_name: &str,
    outline_name: &str,
    rows: &[(String, f64, Option<f64>)],
    horizontal: bool,
) -> DrawResult<DB> {
    let n = rows.len().max(1);
    let top = nice_max(
        rows.iter()
            .map(|r| r.1.max(r.2.unwrap_or(0.0)))
            .fold(0.0, f64::max),
    );
    let names: Vec<String> = rows.iter().map(|r| short(&r.0)).collect();
    let label = move |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let value = |v: &f64| {
        if percent {
            format!("{} %", tick(&(100.0 * v)))
        } else {
            tick(v)
        }
    };
    // Not a team colour: a bar is a figure per category, not a team.
    let fill = RGBColor(70, 100, 140);
    // An integer range's coordinate includes both ends: 0..n-1 holds n categories. A single
    // category gets 0..1 (one slot left empty), since a zero-width range has no scale.
    let hi = n.saturating_sub(1).max(1);
    let (area, side) = with_side_legend(root, title)?;
    let mut builder = ChartBuilder::on(&area);
    builder.margin(12);
    if horizontal {
        builder.x_label_area_size(36).y_label_area_size(260);
        let mut chart = builder.build_cartesian_2d(0f64..top, (0..hi).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(value_desc)
            .x_label_formatter(&value)
            .y_labels(n)
            .y_label_formatter(&label)
            .label_style(font(12))
            .axis_desc_style(font(13))
            .draw()?;
        chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
            let mut b = Rectangle::new(
                [(0.0, SegmentValue::Exact(i)), (r.1, SegmentValue::Exact(i + 1))],
                fill.filled(),
            );
            b.set_margin(4, 4, 0, 0);
            b
        }))?;
        side_legend(&side, &[(bar_name.to_string(), fill, Mark::Area)])
    } else {
        builder.x_label_area_size(48).y_label_area_size(56);
        let mut chart = builder.build_cartesian_2d((0..hi).into_segmented(), 0f64..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(value_desc)
            .y_label_formatter(&value)
            .x_labels(n)
            .x_label_formatter(&label)
            .label_style(font(12))
            .axis_desc_style(font(13))
            .draw()?;
        chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
            let mut b = Rectangle::new(
                [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), r.1)],
                fill.filled(),
            );
            b.set_margin(0, 0, 8, 8);
            b
        }))?;
        let mut keys = vec![(bar_name.to_string(), fill, Mark::Area)];
        if rows.iter().any(|r| r.2.is_some()) {
            chart.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
                let v = r.2?;
                let mut b = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), v)],
                    BLACK.stroke_width(2),
                );
                b.set_margin(0, 0, 8, 8);
                Some(b)
            }))?;
            keys.push((outline_name.to_string(), BLACK, Mark::Outline));
        }
        side_legend(&side, &keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binned(points: &[(f64, f64)], end: f64, bins: usize) -> Vec<(f64, f64)> {
        let mut b = Binner::new(end, bins);
        for &(t, v) in points {
            b.push(t, v);
        }
        b.finish()
    }

    #[test]
    fn bins_are_the_exact_time_averages() {
        // 2 from 0 to 1.5 h, then 4 until 3 h; three 1-hour bins.
        let b = binned(&[(0.0, 2.0), (1.5, 4.0)], 3.0, 3);
        assert_eq!(b, vec![(0.5, 2.0), (1.5, 3.0), (2.5, 4.0)]);
        // The area is kept: 2 x 1.5 + 4 x 1.5 = 9 GPU-hours.
        assert_eq!(b.iter().map(|p| p.1).sum::<f64>(), 9.0);
    }

    #[test]
    fn steps_past_the_end_or_of_no_length_add_nothing() {
        // 6 for no time at 0.5 h; 1 from 0.5 to 2.5 h (the end), 8 after the end; two bins.
        let b = binned(&[(0.5, 6.0), (0.5, 1.0), (2.5, 8.0), (3.0, 0.0)], 2.5, 2);
        assert_eq!(b, vec![(0.625, 0.6), (1.875, 1.0)]);
        assert!(binned(&[(0.0, 1.0)], 0.0, 4).is_empty());
    }

    #[test]
    fn ticks_read_as_people_write_them() {
        assert_eq!(tick(&50.0), "50");
        assert_eq!(tick(&0.5), "0.5");
        assert_eq!(tick(&2.25), "2.25");
        assert_eq!(tick(&(1.0 / 3.0)), "0.33");
        // A duration axis is drawn in the largest unit its top holds twice.
        assert_eq!(duration_unit(2.5 * 86_400.0), (86_400.0, "d"));
        assert_eq!(duration_unit(9000.0), (3600.0, "h"));
        assert_eq!(duration_unit(7000.0), (60.0, "m"));
        assert_eq!(duration_unit(90.0), (1.0, "s"));
    }
}
