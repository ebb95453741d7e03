//! The recorder installed at start, before the Prometheus one exists: it forwards to the
//! Prometheus recorder once [`ready`] gave it one, and keeps what is recorded until then, replayed
//! into it at that moment. So no request is left out of `/metrics` however early it came, and
//! the server does not wait for the Prometheus recorder's clock to calibrate before serving.

use std::sync::{Arc, Mutex, OnceLock};

use metrics::{Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::PrometheusRecorder;

/// The process's: what [`Early::process`] records into and [`ready`] completes.
static PROCESS: State = State::new();

/// An early recorder's state.
pub struct State {
    /// The Prometheus recorder, once built.
    ready: OnceLock<PrometheusRecorder>,
    /// What was recorded before it was (taken, under this lock, by [`State::ready`]).
    kept: Mutex<Vec<Kept>>,
}

/// One early recording.
enum Kept {
    Describe(Kind, KeyName, Option<Unit>, SharedString),
    Counter(Key, CounterOp),
    Gauge(Key, GaugeOp),
    Histogram(Key, f64),
}

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

#[derive(Clone, Copy)]
enum CounterOp {
    Increment(u64),
    Absolute(u64),
}

#[derive(Clone, Copy)]
enum GaugeOp {
    Increment(f64),
    Decrement(f64),
    Set(f64),
}

/// What replayed recordings are registered with (the Prometheus recorder ignores it).
static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Hands the process's recorder the Prometheus one (see [`State::ready`]).
pub fn ready(recorder: PrometheusRecorder) {
    PROCESS.ready(recorder)
}

impl State {
    const fn new() -> State {
        State { ready: OnceLock::new(), kept: Mutex::new(Vec::new()) }
    }

    /// Hands the Prometheus recorder over: what was kept goes into it, in order, and from now
    /// on every recording goes straight to it.
    fn ready(&self, recorder: PrometheusRecorder) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let recorder = self.ready.get_or_init(|| recorder);
        for k in kept.drain(..) {
            match k {
                Kept::Describe(Kind::Counter, name, unit, text) => recorder.describe_counter(name, unit, text),
                Kept::Describe(Kind::Gauge, name, unit, text) => recorder.describe_gauge(name, unit, text),
                Kept::Describe(Kind::Histogram, name, unit, text) => recorder.describe_histogram(name, unit, text),
                Kept::Counter(key, op) => apply_counter(&recorder.register_counter(&key, &METADATA), op),
                Kept::Gauge(key, op) => apply_gauge(&recorder.register_gauge(&key, &METADATA), op),
                Kept::Histogram(key, value) => recorder.register_histogram(&key, &METADATA).record(value),
            }
        }
        kept.shrink_to_fit();
    }

    /// Runs `now` with the Prometheus recorder if it is there, else keeps what `later` makes
    /// (under the lock [`State::ready`] takes, so nothing falls between the two).
    fn forward_or_keep(&self, now: impl FnOnce(&PrometheusRecorder), later: impl FnOnce() -> Kept) {
        if let Some(r) = self.ready.get() {
            return now(r);
        }
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        match self.ready.get() {
            Some(r) => {
                drop(kept);
                now(r)
            }
            None => kept.push(later()),
        }
    }

    fn describe(&self, kind: Kind, key: KeyName, unit: Option<Unit>, description: SharedString) {
        let text = description.clone();
        let (k, u) = (key.clone(), unit);
        self.forward_or_keep(
            move |r| match kind {
                Kind::Counter => r.describe_counter(k, u, text),
                Kind::Gauge => r.describe_gauge(k, u, text),
                Kind::Histogram => r.describe_histogram(k, u, text),
            },
            move || Kept::Describe(kind, key, unit, description),
        )
    }
}

fn apply_counter(c: &Counter, op: CounterOp) {
    match op {
        CounterOp::Increment(v) => c.increment(v),
        CounterOp::Absolute(v) => c.absolute(v),
    }
}

fn apply_gauge(g: &Gauge, op: GaugeOp) {
    match op {
        GaugeOp::Increment(v) => g.increment(v),
        GaugeOp::Decrement(v) => g.decrement(v),
        GaugeOp::Set(v) => g.set(v),
    }
}

/// The recorder (see the module docs).
pub struct Early {
    state: &'static State,
}

impl Early {
    /// The process's (completed by [`ready`]).
    pub fn process() -> Early {
        Early { state: &PROCESS }
    }
}

/// A handle given out before the Prometheus recorder was there.
struct EarlyHandle(&'static State, Key);

impl CounterFn for EarlyHandle {
    fn increment(&self, value: u64) {
        self.0.forward_or_keep(
            |r| r.register_counter(&self.1, &METADATA).increment(value),
            || Kept::Counter(self.1.clone(), CounterOp::Increment(value)),
        );
    }
    fn absolute(&self, value: u64) {
        self.0.forward_or_keep(
            |r| r.register_counter(&self.1, &METADATA).absolute(value),
            || Kept::Counter(self.1.clone(), CounterOp::Absolute(value)),
        );
    }
}

impl GaugeFn for EarlyHandle {
    fn increment(&self, value: f64) {
        self.0.forward_or_keep(
            |r| r.register_gauge(&self.1, &METADATA).increment(value),
            || Kept::Gauge(self.1.clone(), GaugeOp::Increment(value)),
        );
    }
    fn decrement(&self, value: f64) {
        self.0.forward_or_keep(
            |r| r.register_gauge(&self.1, &METADATA).decrement(value),
            || Kept::Gauge(self.1.clone(), GaugeOp::Decrement(value)),
        );
    }
    fn set(&self, value: f64) {
        self.0.forward_or_keep(|r| r.register_gauge(&self.1, &METADATA).set(value), || Kept::Gauge(self.1.clone(), GaugeOp::Set(value)));
    }
}

impl HistogramFn for EarlyHandle {
    fn record(&self, value: f64) {
        self.0.forward_or_keep(|r| r.register_histogram(&self.1, &METADATA).record(value), || Kept::Histogram(self.1.clone(), value));
    }
}

impl Recorder for Early {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state.describe(Kind::Counter, key, unit, description)
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state.describe(Kind::Gauge, key, unit, description)
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state.describe(Kind::Histogram, key, unit, description)
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        match self.state.ready.get() {
            Some(r) => r.register_counter(key, metadata),
            None => Counter::from_arc(Arc::new(EarlyHandle(self.state, key.clone()))),
        }
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        match self.state.ready.get() {
            Some(r) => r.register_gauge(key, metadata),
            None => Gauge::from_arc(Arc::new(EarlyHandle(self.state, key.clone()))),
        }
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        match self.state.ready.get() {
            Some(r) => r.register_histogram(key, metadata),
            None => Histogram::from_arc(Arc::new(EarlyHandle(self.state, key.clone()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_recorded_before_the_prometheus_recorder_is_there_reaches_it() {
        let state: &'static State = Box::leak(Box::new(State::new()));
        let early = Early { state };
        let key = Key::from_name("early_test_total");
        early.describe_counter("early_test_total".into(), None, "a test counter".into());
        early.register_counter(&key, &METADATA).increment(2);
        early.register_histogram(&Key::from_name("early_test_seconds"), &METADATA).record(0.5);
        early.register_gauge(&Key::from_name("early_test_gauge"), &METADATA).set(7.0);
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        state.ready(recorder);
        early.register_counter(&key, &METADATA).increment(3);
        let text = handle.render();
        assert!(text.contains("early_test_total 5"), "{text}");
        assert!(text.contains("# HELP early_test_total a test counter"), "{text}");
        assert!(text.contains("early_test_gauge 7"), "{text}");
        assert!(text.contains("early_test_seconds"), "{text}");
    }
}
