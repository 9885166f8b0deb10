//! A capturing layer on a real `tracing_subscriber::Registry`, for asserting audit events.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code, unreachable_pub)]

use serde_json::{Map, Value};
use std::{
    future::Future,
    sync::{Arc, Mutex},
};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
    span,
};
use tracing_subscriber::{EnvFilter, Layer, layer::Context, prelude::*, registry::LookupSpan};

/// Every event (as JSON objects with `level`, `target`, `spans` and the fields) and span seen.
#[derive(Clone, Default)]
pub struct Captured {
    events: Arc<Mutex<Vec<Map<String, Value>>>>,
    spans: Arc<Mutex<Vec<Map<String, Value>>>>,
}

impl Captured {
    pub fn events(&self) -> Vec<Map<String, Value>> {
        self.events.lock().unwrap().clone()
    }

    pub fn single_event(&self) -> Map<String, Value> {
        let events = self.events();
        assert_eq!(events.len(), 1, "expected exactly one event, got {events:#?}");
        events.into_iter().next().unwrap()
    }

    pub fn target_of_events(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| e["target"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Every event and span, serialised, for leak checks.
    pub fn everything(&self) -> String {
        format!("{:?}{:?}", self.events(), self.spans.lock().unwrap())
    }
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Captured {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, _: &span::Id, _: Context<'_, S>) {
        let mut map = Map::new();
        map.insert("name".into(), attrs.metadata().name().into());
        attrs.record(&mut Fields(&mut map));
        self.spans.lock().unwrap().push(map);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut map = Map::new();
        map.insert("level".into(), event.metadata().level().as_str().into());
        map.insert("target".into(), event.metadata().target().into());
        let spans: Vec<Value> = ctx
            .event_scope(event)
            .map(|scope| scope.from_root().map(|span| Value::from(span.name())).collect())
            .unwrap_or_default();
        map.insert("spans".into(), Value::Array(spans));
        event.record(&mut Fields(&mut map));
        self.events.lock().unwrap().push(map);
    }
}

pub fn capture_filtered<T>(filter: &str, f: impl FnOnce() -> T) -> (T, Captured) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone().with_filter(EnvFilter::new(filter)));
    let out = tracing::subscriber::with_default(subscriber, f);
    (out, captured)
}

pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Captured) {
    capture_filtered("trace", f)
}

pub async fn capture_async<T>(fut: impl Future<Output = T>) -> (T, Captured) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone().with_filter(EnvFilter::new("trace")));
    let dispatch = tracing::Dispatch::new(subscriber);
    let out = tracing::instrument::WithSubscriber::with_subscriber(fut, dispatch).await;
    (out, captured)
}
