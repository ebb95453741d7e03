//! Operating rolestack: Prometheus metrics at `GET /metrics` on the API listener (the `metrics`
//! facade, rendered by metrics-exporter-prometheus), and the log format.
//!
//! Series (all prefixed `rolestack_`):
//! - `requests_total{product, action, status}` and `request_duration_seconds{product}` (histogram):
//!   every RPC and OSS request;
//! - `authorization_total{result}` (`allow`, `implicit_deny`, `explicit_deny`): every decision
//!   (recorded in the core, see `rolestack_core::authz`);
//! - `metadata_credentials_total{kind}` (`issued`, `rotated`): instance-role sessions the metadata
//!   service minted;
//! - `audit_events_dropped`: ActionTrail events lost because the store could not keep up.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

mod early;
use early::Early;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's metrics recorder (once) without waiting for the Prometheus one: what
/// is recorded until [`install_prometheus`] has run is kept and handed to it then (see [`Early`]).
pub fn install() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            metrics::set_global_recorder(Early::process()).map_err(|e| e.to_string())?;
            describe();
            BUILDING.store(true, std::sync::atomic::Ordering::Release);
            Ok(())
        })
        .clone()
}

/// Builds the Prometheus recorder and hands it what was recorded so far; `/metrics` answers 404
/// until then. Its clock calibrates itself against the CPU's time-stamp counter by spinning
/// (quanta: until its error is small, up to 200 ms; ~10 ms on a busy VM), which is why this runs
/// on a thread of its own while the server starts, not before it serves.
pub fn install_prometheus() -> Result<(), String> {
    if HANDLE.get().is_some() {
        return Ok(());
    }
    let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full("rolestack_request_duration_seconds".into()), &buckets)
        .map_err(|e| e.to_string())?
        .build_recorder();
    let handle = recorder.handle();
    let _ = HANDLE.set(handle);
    early::ready(recorder);
    BUILDING.store(false, std::sync::atomic::Ordering::Release);
    Ok(())
}

/// Between [`install`] and the end of [`install_prometheus`]: a scrape then waits for it.
static BUILDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// [`render`], waiting (a second at most) while the Prometheus recorder is still being built at
/// start, so a scrape that comes that early gets the metrics, not a 404 or another answer.
pub async fn render_when_built() -> Option<String> {
    for _ in 0..200 {
        if HANDLE.get().is_some() || !BUILDING.load(std::sync::atomic::Ordering::Acquire) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    render()
}

fn describe() {
    metrics::describe_counter!("rolestack_requests_total", "Requests served, by product, action and HTTP status.");
    metrics::describe_histogram!("rolestack_request_duration_seconds", "Time to answer a request, by product.");
    metrics::describe_counter!("rolestack_authorization_total", "Authorization decisions: allow, implicit_deny, explicit_deny.");
    metrics::describe_counter!("rolestack_metadata_credentials_total", "Instance-role credentials the metadata service issued or rotated.");
    metrics::describe_counter!(
        "rolestack_body_digest_bytes_total",
        "Upload bytes digested (MD5, CRC-64): in SIMD lanes beside other uploads, or singly."
    );
    metrics::describe_counter!(
        "rolestack_body_digest_lane_steps_total",
        "Steps of the SIMD MD5 that digested two or more uploads side by side."
    );
    metrics::describe_counter!(
        "rolestack_body_digest_lanes_busy_total",
        "Lanes those steps kept busy, summed (divided by the steps: the average occupancy)."
    );
    metrics::describe_gauge!("rolestack_audit_events_dropped", "ActionTrail events lost because the store could not keep up.");
}

/// The current metrics in Prometheus' text format, if installed.
pub fn render() -> Option<String> {
    HANDLE.get().map(PrometheusHandle::render)
}

/// Folds the latencies recorded since the last call into the histograms' buckets. The recorder
/// keeps every recorded sample (8 bytes each) until then — without this, a server nobody scrapes
/// would grow by the size of every latency it ever recorded. Call it every second or so.
pub fn upkeep() {
    if let Some(handle) = HANDLE.get() {
        handle.run_upkeep();
    }
}

/// Requests answered since start (all products).
static SERVED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many requests were answered since start.
pub fn served() -> u64 {
    SERVED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Counts one served request and its latency.
pub fn request_done(product: &'static str, action: &str, status: u16, started: Instant) {
    SERVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    metrics::counter!("rolestack_requests_total", "product" => product, "action" => action.to_string(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("rolestack_request_duration_seconds", "product" => product).record(started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upkeep_neither_loses_nor_repeats_latencies() {
        install().unwrap();
        install_prometheus().unwrap();
        let count = |n: u32| format!("rolestack_request_duration_seconds_count{{product=\"upkeep-test\"}} {n}\n");
        for _ in 0..3 {
            request_done("upkeep-test", "Probe", 200, Instant::now());
        }
        upkeep();
        assert!(render().unwrap().contains(&count(3)));
        request_done("upkeep-test", "Probe", 200, Instant::now());
        upkeep();
        upkeep();
        assert!(render().unwrap().contains(&count(4)));
    }
}
