//! An instance's numbers from Prometheus: the panel of its page (the last
//! hour of its key figures as small server-drawn SVG charts, so they show
//! with JS off, and the alerts firing for it) and its JSON twin.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::error::ApiError;
use super::instances::parse_id;
use super::live::LiveEvents;
use crate::catalog::prometheus::FigureUnit;
use crate::service::{FIGURES_WINDOW, FigureView, InstanceFigures, InstanceView, ServiceError};

/// How often an open page's figures are read again: the scrape and rule
/// evaluation interval of dataport's Prometheus (`catalog::apps::prometheus`),
/// so each read may bring new samples and alert states.
const FIGURES_REFRESH: Duration = Duration::from_secs(15);

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/instances/{id}/figures", get(figures_json))
        .route("/instances/{id}/live/figures", get(live_figures))
}

/// The figures panel of instance `view` now: `None` when it has none (it is
/// gone, no cluster is configured, no Prometheus scrapes it, or its app has
/// no key figures); `Err` with why they could not be read.
pub(super) async fn figures_panel(
    state: &AppState,
    view: &InstanceView,
) -> Option<Result<FiguresPanel, String>> {
    if view.is_gone() {
        return None;
    }
    match state.service.instance_figures(view.instance.id).await {
        Ok(figures) => figures.map(|figures| Ok(FiguresPanel::of(figures, chrono::Utc::now()))),
        Err(ServiceError::NoCluster) => None,
        Err(error) => Some(Err(error.to_string())),
    }
}

/// The instance page's figures panel, as the live stream sends it.
#[derive(Template)]
#[template(path = "figures_live.html")]
struct FiguresFragment {
    figures: Option<Result<FiguresPanel, String>>,
    view: Arc<InstanceView>,
}

/// The instance page's figures panel as server-sent events: a `figures`
/// event with the panel's HTML whenever it changed, read every
/// [`FIGURES_REFRESH`], so the open page's charts and alerts move on with
/// Prometheus. A failed read sends nothing and is tried again.
async fn live_figures(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<LiveEvents, ApiError> {
    let id = parse_id(&id)?;
    // Unknown ids answer 404 before the stream starts.
    state.service.instance(id).await?;
    Ok(super::live::changes(
        "figures",
        FIGURES_REFRESH,
        move || {
            let state = state.clone();
            async move {
                let view = state.service.instance(id).await.ok()?;
                let figures = figures_panel(&state, &view).await;
                FiguresFragment { figures, view }.render().ok()
            }
        },
    ))
}

/// `null` when no Prometheus scrapes the instance or its app has no figures.
async fn figures_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Option<InstanceFigures>>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.instance_figures(id).await?))
}

/// The numbers panel of an instance page.
pub struct FiguresPanel {
    /// The Prometheus instance they come from: `(id, namespace/name)`.
    pub prometheus: (uuid::Uuid, String),
    /// Its alerts, firing ones first.
    pub alerts: Vec<crate::service::AlertView>,
    /// One card per key figure.
    pub charts: Vec<Chart>,
    /// Why Prometheus gave no numbers, if it did not answer.
    pub problem: Option<String>,
}

impl FiguresPanel {
    /// The panel of `figures`, read at `now`.
    pub fn of(figures: InstanceFigures, now: chrono::DateTime<chrono::Utc>) -> FiguresPanel {
        let now = now.timestamp() as f64;
        FiguresPanel {
            charts: figures.figures.iter().map(|f| Chart::of(f, now)).collect(),
            prometheus: figures.prometheus,
            alerts: figures.alerts,
            problem: figures.problem,
        }
    }
}

/// Width and height of a chart's drawing, in SVG user units.
const CHART_SIZE: (f64, f64) = (240.0, 48.0);

/// One figure as its card shows it.
pub struct Chart {
    /// Stable key (`data-figure`).
    pub key: &'static str,
    /// What it is called.
    pub label: &'static str,
    /// The newest value, written for reading; `None` without samples.
    pub latest: Option<String>,
    /// Lowest and highest value in the window, written for reading.
    pub range: Option<(String, String)>,
    /// The SVG polyline's `points` over [`CHART_SIZE`], time left to right
    /// across the whole window, so a young series starts part-way.
    pub points: String,
}

impl Chart {
    /// The card of `figure`, its window ending at `now` (unix seconds).
    pub fn of(figure: &FigureView, now: f64) -> Chart {
        let (width, height) = CHART_SIZE;
        let values = figure.points.iter().map(|&(_, value)| value);
        let low = values.clone().fold(f64::INFINITY, f64::min);
        let high = values.fold(f64::NEG_INFINITY, f64::max);
        let start = now - FIGURES_WINDOW.as_secs_f64();
        // A flat line sits in the middle rather than on an edge.
        let span = if high > low { high - low } else { 1.0 };
        let middle = if high > low { 0.0 } else { height / 2.0 };
        let points = figure
            .points
            .iter()
            .map(|&(at, value)| {
                let x = ((at - start) / FIGURES_WINDOW.as_secs_f64()).clamp(0.0, 1.0) * width;
                let y = if high > low {
                    height - (value - low) / span * height
                } else {
                    middle
                };
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ");
        Chart {
            key: figure.key,
            label: figure.label,
            latest: figure.latest().map(|value| written(value, figure.unit)),
            range: (!figure.points.is_empty())
                .then(|| (written(low, figure.unit), written(high, figure.unit))),
            points,
        }
    }

    /// The drawing's width and height.
    pub fn size(&self) -> (f64, f64) {
        CHART_SIZE
    }
}

/// `value` in `unit`, as a person reads it: whole counts, milliseconds up
/// to a second then seconds, rates with one decimal.
pub fn written(value: f64, unit: FigureUnit) -> String {
    match unit {
        FigureUnit::Count => format!("{value:.0}"),
        FigureUnit::Milliseconds if value >= 1000.0 => format!("{:.1} s", value / 1000.0),
        FigureUnit::Milliseconds => format!("{value:.0} ms"),
        FigureUnit::PerSecond => format!("{value:.1}/s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(points: Vec<(f64, f64)>) -> FigureView {
        FigureView {
            key: "running_jobs",
            label: "Running jobs",
            unit: FigureUnit::Count,
            points,
        }
    }

    #[test]
    fn a_chart_spans_the_window_and_its_values_range() {
        let now = 10_000.0;
        let chart = Chart::of(&figure(vec![(now - 1800.0, 1.0), (now, 3.0)]), now);
        assert_eq!(chart.points, "120.0,48.0 240.0,0.0");
        assert_eq!(chart.latest.as_deref(), Some("3"));
        assert_eq!(chart.range, Some(("1".into(), "3".into())));
    }

    #[test]
    fn a_flat_or_empty_figure_draws_in_the_middle_or_not_at_all() {
        let now = 10_000.0;
        let flat = Chart::of(&figure(vec![(now - 60.0, 2.0), (now, 2.0)]), now);
        assert_eq!(flat.points, "236.0,24.0 240.0,24.0");
        let empty = Chart::of(&figure(vec![]), now);
        assert_eq!(
            (empty.points.as_str(), empty.latest, empty.range),
            ("", None, None)
        );
    }

    #[test]
    fn values_read_in_their_units() {
        assert_eq!(written(2.0, FigureUnit::Count), "2");
        assert_eq!(written(350.0, FigureUnit::Milliseconds), "350 ms");
        assert_eq!(written(2500.0, FigureUnit::Milliseconds), "2.5 s");
        assert_eq!(written(9.96, FigureUnit::PerSecond), "10.0/s");
    }
}
