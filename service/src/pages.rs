//! Server-rendered pages (maud: every interpolated string is HTML-escaped, so guest text,
//! names and file names are data, never markup). Sign-in stores the token in an HttpOnly,
//! SameSite=Strict cookie; the pages read the same data as the API, scoped the same way.

use crate::api::{SESSION_COOKIE, find_suite, full_view, leaderboard_view, owned};
use crate::auth::{self, Caller};
use crate::db::Status;
use crate::error::ServiceError;
use crate::state::AppState;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use serde_json::Value;

/// The pages' routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/submissions") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/submissions", get(my_submissions))
        .route("/submissions/{id}", get(report_page))
        .route("/suites", get(suites_page))
        .route("/suites/{name}", get(leaderboard_page))
        .with_state(state)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem}\
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;\
text-align:left}th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}\
pre{background:#f8f8f8;padding:.5rem;overflow:auto;max-height:20rem}.ok{color:#070}\
.failed,.refused{color:#a00}.queued,.running{color:#a60}.cancelled{color:#666}";

fn page(title: &str, refresh: bool, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    @if refresh { meta http-equiv="refresh" content="2"; }
                    title { (title) " · KernBench" }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    nav { a href="/submissions" { "My submissions" } " · "
                        a href="/suites" { "Suites" } " · "
                        form method="post" action="/logout" style="display:inline" {
                            button type="submit" { "Sign out" } } }
                    (body)
                }
            }
        }
        .into_string(),
    )
}

/// A page that needs a signed-in caller sends everyone else to the sign-in form.
fn to_login(e: ServiceError) -> Response {
    match e {
        ServiceError::Unauthorized => Redirect::to("/login").into_response(),
        ServiceError::NotFound(what) => (
            StatusCode::NOT_FOUND,
            page(
                "Not found",
                false,
                html! { h1 { "Not found" } p { (what) } },
            ),
        )
            .into_response(),
        other => other.into_response(),
    }
}

async fn login_page() -> Html<String> {
    login_form(None)
}

fn login_form(error: Option<&str>) -> Html<String> {
    Html(html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Sign in · KernBench" } style { (PreEscaped(STYLE)) } }
            body {
                h1 { "Sign in" }
                @if let Some(error) = error { p.failed id="login-error" { (error) } }
                form method="post" action="/login" {
                    label for="token" { "Token " }
                    input type="password" id="token" name="token" autocomplete="off" size="60";
                    " "
                    button type="submit" id="sign-in" { "Sign in" }
                }
            }
        }
    }.into_string())
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    match auth::authenticate(&state.db, form.token.trim()).await {
        Ok(_) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age=604800",
                form.token.trim()
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to("/submissions")).into_response()
        }
        Err(ServiceError::Unauthorized) => (
            StatusCode::UNAUTHORIZED,
            login_form(Some("That token is not valid (or was revoked).")),
        )
            .into_response(),
        Err(other) => other.into_response(),
    }
}

async fn logout() -> Response {
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

async fn my_submissions(
    State(state): State<AppState>,
    caller: Result<Caller, ServiceError>,
) -> Response {
    let result = async {
        let caller = caller?;
        let rows = state.db.submissions(caller.scope(), None, 100).await?;
        let live = rows.iter().any(|r| !r.status.is_final());
        Ok::<_, ServiceError>(page(
            "My submissions",
            live,
            html! {
                h1 { "Submissions of " (caller.token.name) }
                @if rows.is_empty() { p { "None yet: " code { "kernbench submit BENCH.wasm --server URL --token T" } } }
                @else {
                    table id="submissions" {
                        tr { th { "id" } th { "component" } th { "status" } th { "attempts" } th { "error" } }
                        @for row in &rows {
                            tr {
                                td { a href={ "/submissions/" (row.id) } { (row.id) } }
                                td { (row.name) }
                                td class=(row.status.as_str()) { (row.status.as_str()) }
                                td.num { (row.attempts) }
                                td { (row.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            },
        ))
    }
    .await;
    result.map_or_else(to_login, IntoResponse::into_response)
}

async fn report_page(
    State(state): State<AppState>,
    caller: Result<Caller, ServiceError>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let caller = caller?;
        let row = owned(&state, &caller, &id).await?;
        let view = full_view(&state, &caller, &row).await?;
        let live = !row.status.is_final();
        let title = format!("{} · {}", row.name, row.status.as_str());
        Ok::<_, ServiceError>(page(
            &title,
            live,
            html! {
                h1 { (row.name) }
                p { "Submission " code { (row.id) } ": "
                    span id="status" class=(row.status.as_str()) { (row.status.as_str()) }
                    @if let Some(p) = view.position { " (" (p) " ahead in the queue)" }
                    @if row.status == Status::Running { " (attempt " (row.attempts) ")" } }
                @if let Some(error) = &row.error { p.failed id="error" { (error) } }
                @if let Some(result) = &view.suite_result { (suite_result_body(result)) }
                @if let Some(report) = &view.report { (report_body(&row.id, report)) }
            },
        ))
    }
    .await;
    result.map_or_else(to_login, IntoResponse::into_response)
}

async fn suites_page(
    State(state): State<AppState>,
    caller: Result<Caller, ServiceError>,
) -> Response {
    let result = async {
        caller?;
        let suites = state.db.suites().await?;
        Ok::<_, ServiceError>(page(
            "Suites",
            false,
            html! {
                h1 { "Suites" }
                @if suites.is_empty() { p { "No suite is registered yet." } }
                @else {
                    table id="suites" {
                        tr { th { "suite" } th { "description" } th { "runs" } th { "ranked by" } }
                        @for row in &suites {
                            @let suite = &row.suite;
                            tr {
                                td { a href={ "/suites/" (suite.name) } { (suite.name) } }
                                td { (suite.description) }
                                td.num { (suite.runs.len()) }
                                td { @for (i, m) in suite.rank.iter().enumerate() {
                                    @if i > 0 { ", " } (m.name) " (" (better(m.better)) ")" } }
                            }
                        }
                    }
                }
            },
        ))
    }
    .await;
    result.map_or_else(to_login, IntoResponse::into_response)
}

fn better(b: crate::suite::Better) -> &'static str {
    match b {
        crate::suite::Better::Lower => "lower is better",
        crate::suite::Better::Higher => "higher is better",
    }
}

fn score_cell(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
}

async fn leaderboard_page(
    State(state): State<AppState>,
    caller: Result<Caller, ServiceError>,
    Path(name): Path<String>,
) -> Response {
    let result = async {
        let caller = caller?;
        let suite = find_suite(&state, &name).await?;
        let board = leaderboard_view(&state, &caller, &suite).await?;
        let entries = items(&board, "entries");
        Ok::<_, ServiceError>(page(
            &format!("{} leaderboard", suite.name),
            false,
            html! {
                h1 { "Leaderboard: " (suite.name) }
                @if !suite.description.is_empty() { p id="description" { (suite.description) } }
                p { "Submit with " code { "kernbench submit BENCH.wasm --suite " (suite.name) " --server URL --token T" } }
                h2 { "Runs" }
                ul id="runs" {
                    @for run in &suite.runs {
                        li { code { (run.name) } @if run.hidden { " (hidden: only pass or fail is shown)" }
                             @else { @if let Some(n) = run.sips { ", " (n) " SIPs" } @if !run.args.is_empty() { ", args " code { (run.args.join(" ")) } } } }
                    }
                }
                @if entries.is_empty() { p id="empty" { "No valid submission yet." } }
                @else {
                    table id="leaderboard" {
                        tr { th { "#" } th { "submitter" }
                             @for m in &suite.rank { th { (m.name) " (" (better(m.better)) ", visible runs)" } }
                             th { "submission" } }
                        @for e in entries {
                            tr class=@if e.get("mine").and_then(Value::as_bool) == Some(true) { "mine" } {
                                td.num { (num(e, "position")) }
                                td.submitter { (text(e, "submitter")) }
                                @for v in items(e, "scores") { td.num { (score_cell(v)) } }
                                td { @if let Some(id) = e.get("submission_id").and_then(Value::as_str) {
                                    a href={ "/submissions/" (id) } { (id) } } }
                            }
                        }
                    }
                }
            },
        ))
    }
    .await;
    result.map_or_else(to_login, IntoResponse::into_response)
}

/// A suite submission's runs: visible ones with their values, hidden ones pass or fail.
fn suite_result_body(result: &Value) -> Markup {
    let scores = result.get("scores").unwrap_or(&Value::Null);
    html! {
        h2 { "Suite " a href={ "/suites/" (text(result, "suite")) } { (text(result, "suite")) } }
        p id="validity" {
            @if scores.get("valid").and_then(Value::as_bool) == Some(true) { "Ranked. " }
            @else { "Not ranked: " (text(scores, "reason")) ". " }
            "Scores over the visible runs: "
            @for (i, v) in items(scores, "visible").iter().enumerate() { @if i > 0 { ", " } (score_cell(v)) }
        }
        table id="suite-runs" {
            tr { th { "run" } th { "status" } th { "values" } }
            @for run in items(result, "runs") {
                tr {
                    td { (text(run, "name")) @if run.get("hidden").and_then(Value::as_bool) == Some(true) { " (hidden)" } }
                    @if let Some(passed) = run.get("passed").and_then(Value::as_bool) {
                        td class=(if passed { "ok" } else { "failed" }) { (if passed { "passed" } else { "did not pass" }) }
                        td { }
                    } @else {
                        td class=(text(run, "status")) { (text(run, "status")) }
                        td { @for (i, v) in items(run, "values").iter().enumerate() { @if i > 0 { ", " } (score_cell(v)) }
                             @for e in items(run, "metric_errors") { br; (e.as_str().unwrap_or("")) } }
                    }
                }
            }
        }
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn report_body(id: &str, report: &Value) -> Markup {
    let failure = report.get("failure").filter(|f| !f.is_null());
    let topology = report.get("topology").unwrap_or(&Value::Null);
    html! {
        p { "Bench " code { (text(report, "bench")) } " on " (text(topology, "summary"))
            ", world size " (num(report, "world_size")) ", policy "
            (report.get("policy").map_or("", |p| text(p, "name"))) "." }
        @if let Some(f) = failure { p.failed id="failure" { (text(f, "kind")) ": " (text(f, "message")) } }
        @for w in items(report, "warnings") { p { "warning: " (w.as_str().unwrap_or("")) } }
        p { a id="trace" href={ "/api/v1/submissions/" (id) "/trace" } download { "Download the trace" }
            " (open it in " a href="https://ui.perfetto.dev" { "Perfetto" } ")" }
        h2 { "Ranks" }
        table id="ranks" {
            tr { th { "rank" } th { "status" } th { "sim time (us)" } th { "error" } }
            @for r in items(report, "ranks") {
                tr { td.num { (num(r, "rank")) } td class=(text(r, "status")) { (text(r, "status")) }
                     td.num { (format!("{:.2}", num(r, "sim_time_ns") / 1000.0)) }
                     td { (r.get("error").and_then(Value::as_str).unwrap_or("")) } }
            }
        }
        @let summary = items(report, "collective_summary");
        @if !summary.is_empty() {
            h2 { "Collectives" }
            table id="collectives" {
                tr { th { "op" } th { "size (B)" } th { "count" } th { "type" } th { "redop" } th { "root" }
                     th { "algorithm" } th { "calls" } th { "time (us)" } th { "algbw (GB/s)" } th { "busbw (GB/s)" } }
                @for s in summary {
                    tr { td { (text(s, "op")) } td.num { (num(s, "size_bytes")) } td.num { (num(s, "count")) }
                         td { (text(s, "nccl_type")) } td { (text(s, "redop")) } td.num { (num(s, "root")) }
                         td { (text(s, "algorithm")) } td.num { (num(s, "calls")) }
                         td.num { (format!("{:.2}", num(s, "time_us"))) }
                         td.num { (format!("{:.2}", num(s, "algbw_gbytes_per_s"))) }
                         td.num { (format!("{:.2}", num(s, "busbw_gbytes_per_s"))) } }
                }
            }
            (busbw_chart(summary))
        }
        @let metrics = items(report, "metrics");
        @if !metrics.is_empty() {
            h2 { "Metrics" }
            table id="metrics" {
                tr { th { "rank" } th { "name" } th { "value" } th { "unit" } th { "count" } th { "mean" } }
                @for m in metrics {
                    tr { td.num { (num(m, "rank")) } td { (text(m, "name")) } td.num { (num(m, "value")) }
                         td { (text(m, "unit")) } td.num { (num(m, "count")) } td.num { (num(m, "mean")) } }
                }
            }
        }
        h2 { "Output" }
        @for r in items(report, "ranks") {
            @let out = text(r, "stdout");
            @let err = text(r, "stderr");
            @if !out.is_empty() || !err.is_empty() {
                h3 { "rank " (num(r, "rank")) }
                @if !out.is_empty() { pre.stdout { (out) } }
                @if !err.is_empty() { pre.stderr { (err) } }
            }
        }
    }
}

/// busbw against message size, one polyline per collective, log-2 x axis; plain SVG.
fn busbw_chart(summary: &[Value]) -> Markup {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for s in summary {
        let (size, busbw) = (num(s, "size_bytes"), num(s, "busbw_gbytes_per_s"));
        if size <= 0.0 {
            continue;
        }
        let op = text(s, "op").to_owned();
        match series.iter_mut().find(|(name, _)| *name == op) {
            Some((_, points)) => points.push((size.log2(), busbw)),
            None => series.push((op, vec![(size.log2(), busbw)])),
        }
    }
    if series.is_empty() {
        return html! {};
    }
    for (_, points) in &mut series {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0_f64);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let (w, h, pad) = (640.0, 320.0, 40.0);
    let sx = |x: f64| pad + (x - x0) / (x1 - x0).max(1.0) * (w - 2.0 * pad);
    let sy = |y: f64| h - pad - y / y1.max(1e-9) * (h - 2.0 * pad);
    const COLOURS: [&str; 6] = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    ];
    html! {
        h3 { "busbw against size" }
        svg id="busbw-chart" xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) role="img" {
            title { "busbw (GB/s) against message size (bytes, log scale)" }
            line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) stroke="#000" {}
            line x1=(pad) y1=(pad) x2=(pad) y2=(h - pad) stroke="#000" {}
            text x=(pad) y=(h - 10.0) font-size="11" { (format!("{} B", 2f64.powf(x0).round())) }
            text x=(w - pad - 60.0) y=(h - 10.0) font-size="11" { (format!("{} B", 2f64.powf(x1).round())) }
            text x="4" y=(pad - 8.0) font-size="11" { (format!("{y1:.1} GB/s")) }
            @for (i, (op, pts)) in series.iter().enumerate() {
                @let path: Vec<String> = pts.iter().map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y))).collect();
                polyline class="series" fill="none" stroke=(COLOURS[i % COLOURS.len()]) stroke-width="2" points=(path.join(" ")) {}
                text x=(w - pad - 120.0) y=(pad + 14.0 * i as f64) font-size="11" fill=(COLOURS[i % COLOURS.len()]) { (op) }
            }
        }
    }
}
