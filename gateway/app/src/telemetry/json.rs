//! JSON log lines with the OpenTelemetry `trace_id` and `span_id` of the span they were written
//! in, so a log line leads to its trace and back.

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent};
use tracing_subscriber::registry::LookupSpan;

/// `tracing-subscriber`'s JSON format plus `trace_id` / `span_id` when inside a traced span.
pub(crate) struct JsonWithTrace {
    inner: Format<Json>,
}

impl JsonWithTrace {
    pub(crate) fn new() -> Self {
        Self {
            inner: Format::default()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false),
        }
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonWithTrace
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let ids = trace_ids(ctx);
        match (ids, line.strip_prefix('{')) {
            (Some((trace_id, span_id)), Some(rest)) => write!(
                writer,
                "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\",{rest}"
            ),
            _ => writer.write_str(&line),
        }
    }
}

/// Trace and span id of the innermost span (or ancestor) that has an OpenTelemetry context.
fn trace_ids<S>(ctx: &FmtContext<'_, S, JsonFields>) -> Option<(String, String)>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let current = ctx.lookup_current()?;
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    current.scope().find_map(|span| {
        let cx = tracing_opentelemetry::get_otel_context(&span.id(), &dispatch)?;
        let otel_span = cx.span();
        let sc = otel_span.span_context();
        sc.is_valid()
            .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
    })
}
