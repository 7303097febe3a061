//! [`FacadeRecorder`]: a `metrics` facade recorder that feeds `prometheus-client` families.
//!
//! Each metric the core reports ([`wazuh_cluster_core::telemetry`]) and each one this daemon
//! reports through the facade has a family registered up front, with its help text and, for
//! histograms, its buckets; the facade's key labels become the family's label set. A name no
//! family was registered for is dropped (a no-op handle), so a stray metric never breaks a
//! scrape.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use prometheus_client::metrics::counter::Counter as PromCounter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge as PromGauge;
use prometheus_client::metrics::histogram::Histogram as PromHistogram;
use prometheus_client::registry::Registry;

/// A family's label set: the facade key's labels, in the key's order.
pub type Labels = Vec<(String, String)>;
/// A gauge holding an `f64`.
pub type FloatGauge = PromGauge<f64, AtomicU64>;

/// Builds histograms with fixed bucket bounds.
#[derive(Clone)]
pub struct Buckets(Arc<[f64]>);

impl MetricConstructor<PromHistogram> for Buckets {
    fn new_metric(&self) -> PromHistogram {
        PromHistogram::new(self.0.iter().copied())
    }
}

/// Task durations in seconds, from 1 ms to about 2 min (×2 per bucket).
pub fn duration_buckets() -> Buckets {
    Buckets(
        prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 18)
            .collect::<Vec<_>>()
            .into(),
    )
}

enum Kind {
    Counter(Family<Labels, PromCounter>),
    Gauge(Family<Labels, FloatGauge>),
    Histogram(Family<Labels, PromHistogram, Buckets>),
}

/// Families by facade name, registered in a `prometheus-client` [`Registry`].
#[derive(Default)]
pub struct FacadeRecorder {
    families: HashMap<&'static str, Kind>,
}

impl FacadeRecorder {
    /// Registers counter `name` (ending in `_total`, which the encoder adds back) in `registry`.
    pub fn counter(&mut self, registry: &mut Registry, name: &'static str, help: &str) {
        let family = Family::<Labels, PromCounter>::default();
        let base = name.strip_suffix("_total").unwrap_or(name);
        registry.register(base, help, family.clone());
        self.families.insert(name, Kind::Counter(family));
    }

    /// Registers gauge `name` in `registry`.
    pub fn gauge(&mut self, registry: &mut Registry, name: &'static str, help: &str) {
        let family = Family::<Labels, FloatGauge>::default();
        registry.register(name, help, family.clone());
        self.families.insert(name, Kind::Gauge(family));
    }

    /// The family of gauge `name`, for figures set directly rather than through the facade.
    pub fn gauge_family(&self, name: &str) -> Option<Family<Labels, FloatGauge>> {
        match self.families.get(name) {
            Some(Kind::Gauge(family)) => Some(family.clone()),
            _ => None,
        }
    }

    /// Registers histogram `name` with `buckets` in `registry`.
    pub fn histogram(
        &mut self,
        registry: &mut Registry,
        name: &'static str,
        help: &str,
        buckets: Buckets,
    ) {
        let family = Family::new_with_constructor(buckets);
        registry.register(name, help, family.clone());
        self.families.insert(name, Kind::Histogram(family));
    }
}

fn labels(key: &Key) -> Labels {
    key.labels()
        .map(|label| (label.key().to_owned(), label.value().to_owned()))
        .collect()
}

struct CounterHandle(PromCounter);

impl CounterFn for CounterHandle {
    fn increment(&self, value: u64) {
        self.0.inc_by(value);
    }

    fn absolute(&self, value: u64) {
        // A Prometheus counter only goes up: raise it to `value` if it is below.
        let current = self.0.get();
        if value > current {
            self.0.inc_by(value - current);
        }
    }
}

struct GaugeHandle(FloatGauge);

impl GaugeFn for GaugeHandle {
    fn increment(&self, value: f64) {
        self.0.inc_by(value);
    }

    fn decrement(&self, value: f64) {
        self.0.dec_by(value);
    }

    fn set(&self, value: f64) {
        self.0.set(value);
    }
}

struct HistogramHandle(PromHistogram);

impl HistogramFn for HistogramHandle {
    fn record(&self, value: f64) {
        self.0.observe(value);
    }
}

impl Recorder for FacadeRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        match self.families.get(key.name()) {
            Some(Kind::Counter(family)) => Counter::from_arc(Arc::new(CounterHandle(
                family.get_or_create_owned(&labels(key)),
            ))),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match self.families.get(key.name()) {
            Some(Kind::Gauge(family)) => Gauge::from_arc(Arc::new(GaugeHandle(
                family.get_or_create_owned(&labels(key)),
            ))),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        match self.families.get(key.name()) {
            Some(Kind::Histogram(family)) => Histogram::from_arc(Arc::new(HistogramHandle(
                family.get_or_create_owned(&labels(key)),
            ))),
            _ => Histogram::noop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facade_calls_land_in_their_families_and_unknown_names_are_dropped() {
        let mut registry = Registry::default();
        let mut recorder = FacadeRecorder::default();
        recorder.counter(&mut registry, "demo_bytes_total", "Bytes");
        recorder.gauge(&mut registry, "demo_skew_seconds", "Skew");
        recorder.histogram(&mut registry, "demo_seconds", "Time", duration_buckets());
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("demo_bytes_total", "peer" => "w1").increment(5);
            metrics::counter!("demo_bytes_total", "peer" => "w1").increment(2);
            metrics::gauge!("demo_skew_seconds", "peer" => "w1").set(-3.5);
            metrics::histogram!("demo_seconds", "task" => "x").record(0.003);
            metrics::counter!("not_registered_total").increment(1);
        });
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("# TYPE demo_bytes counter"), "{text}");
        assert!(text.contains("demo_bytes_total{peer=\"w1\"} 7"), "{text}");
        assert!(
            text.contains("demo_skew_seconds{peer=\"w1\"} -3.5"),
            "{text}"
        );
        assert!(text.contains("# TYPE demo_seconds histogram"), "{text}");
        assert!(text.contains("demo_seconds_count{task=\"x\"} 1"), "{text}");
        assert!(
            text.contains("demo_seconds_bucket{le=\"0.004\",task=\"x\"} 1"),
            "{text}"
        );
        assert!(!text.contains("not_registered"), "{text}");
    }
}
