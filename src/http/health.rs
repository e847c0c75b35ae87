//! Liveness, readiness and metrics.

use poem::http::{StatusCode, header};
use poem::web::{Data, Json};
use poem::{Response, handler};

use super::dto::Status;
use super::error::error_body;
use crate::app::AppState;
use crate::db;
use crate::telemetry::Causes;

/// `GET /healthz`: the process answers.
#[handler]
pub(crate) fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database and the object store answer.
#[handler]
pub(crate) async fn readyz(state: Data<&AppState>) -> Response {
    if let Err(error) = state.storage.ping().await {
        tracing::warn!(error = %Causes(&error), "readiness check failed: object store");
        return error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "object store unavailable",
        );
    }
    match db::ping(&state.db).await {
        Ok(()) => {
            let status = Status {
                status: "ready".to_owned(),
            };
            Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(serde_json::json!({ "status": status.status }).to_string())
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check failed: database");
            error_body(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "database unavailable",
            )
        }
    }
}

/// `GET /metrics`: Prometheus text format.
#[handler]
pub(crate) fn metrics(state: Data<&AppState>) -> Response {
    match state.metrics.render() {
        Ok(text) => Response::builder()
            .header(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(error) => {
            tracing::error!(%error, "cannot render metrics");
            error_body(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
        }
    }
}
