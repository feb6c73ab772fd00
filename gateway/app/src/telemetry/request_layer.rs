//! Turns the MESH adapter's request spans (`mesh.request`, one per HTTP attempt) into the
//! `http.client.request.duration` histogram, so the adapter stays free of the metrics SDK and the
//! histogram sees exactly what the traces see.

use tokio::time::Instant;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use gateway_core::telemetry as tm;

use super::metrics::{HttpRequest, Metrics};

/// The layer; add it with a filter that passes [`is_request_span`] only.
pub(crate) struct RequestMetricsLayer {
    metrics: Metrics,
}

impl RequestMetricsLayer {
    pub(crate) fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

/// Whether `meta` is a MESH request span.
pub(crate) fn is_request_span(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.name() == tm::SPAN_MESH_REQUEST
}

#[derive(Default)]
struct Fields {
    mailbox: String,
    operation: String,
    method: String,
    status: Option<i64>,
    error_type: Option<String>,
}

struct Timed {
    start: Instant,
    fields: Fields,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            tm::GATEWAY_MAILBOX => self.mailbox = value.to_string(),
            tm::GATEWAY_MESH_OPERATION => self.operation = value.to_string(),
            tm::HTTP_METHOD => self.method = value.to_string(),
            tm::ERROR_TYPE => self.error_type = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == tm::HTTP_STATUS_CODE {
            self.status = Some(value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == tm::HTTP_STATUS_CODE {
            self.status = i64::try_from(value).ok();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%value` fields arrive here; strings without quotes.
        let s = format!("{value:?}");
        self.record_str(field, s.trim_matches('"'));
    }
}

impl<S> Layer<S> for RequestMetricsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_request_span(attrs.metadata()) {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Timed {
                start: Instant::now(),
                fields,
            });
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(timed) = span.extensions_mut().get_mut::<Timed>()
        {
            values.record(&mut timed.fields);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(timed) = span.extensions_mut().remove::<Timed>() else {
            return;
        };
        let f = &timed.fields;
        let request = HttpRequest {
            mailbox: &f.mailbox,
            operation: &f.operation,
            method: &f.method,
            status: f.status,
            error_type: f.error_type.as_deref(),
        };
        self.metrics
            .http_request(&request, timed.start.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::metrics::SdkMeterProvider;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::telemetry::PrometheusReader;

    #[test]
    fn request_spans_become_the_http_duration_histogram() {
        let reader = PrometheusReader::new();
        let provider = SdkMeterProvider::builder()
            .with_reader(reader.clone())
            .build();
        let layer = RequestMetricsLayer::new(Metrics::new(&provider))
            .with_filter(tracing_subscriber::filter::filter_fn(is_request_span));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                tm::SPAN_MESH_REQUEST,
                { tm::HTTP_METHOD } = %"POST",
                { tm::HTTP_STATUS_CODE } = tracing::field::Empty,
                { tm::GATEWAY_MAILBOX } = "PHARM001",
                { tm::GATEWAY_MESH_OPERATION } = "send",
                { tm::ERROR_TYPE } = tracing::field::Empty,
            );
            span.record(tm::HTTP_STATUS_CODE, 403_i64);
            span.record(tm::ERROR_TYPE, "403");
            drop(span);
            // Other spans are not requests.
            drop(tracing::info_span!("other"));
        });
        let text = reader.render().unwrap();
        assert!(
            text.contains(
                "http_client_request_duration_seconds_count{error_type=\"403\",\
                 gateway_mesh_mailbox=\"PHARM001\",gateway_mesh_operation=\"send\",\
                 http_request_method=\"POST\",http_response_status_code=\"403\"} 1"
            ),
            "{text}"
        );
    }
}
