//! Cross-cutting request handling: access log and metrics, body size limit, cross-origin refusal.

use std::time::Instant;

use poem::error::NotFoundError;
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, PathPattern, Request, Response};

use super::error::{AppError, error_body, json_error};
use super::route_name::route_name;
use crate::app::AppState;
use crate::telemetry::metrics::{method_label, route_label};

fn is_state_changing(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Logs and measures every request, after errors have become responses.
///
/// The request is named by the route template the router matched (which the router leaves on the
/// answer), written as the API documents it (`/api/images/{id}`), never by its path: paths carry emails and share tokens, and each distinct one would be a new
/// series kept for the life of the process.
pub(crate) async fn observe<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let method = method_label(req.method().as_str());
    let state = req.data::<AppState>().cloned();
    let response = next.get_response(req).await;
    let status = response.status();
    let name = response
        .data::<PathPattern>()
        .map(|pattern| route_name(&pattern.0));
    let route = route_label(name.as_deref());
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state
            .metrics
            .observe_request(method, route, status.as_u16(), elapsed.as_secs_f64());
    }
    tracing::info!(
        target: "edgepass::access",
        method,
        route,
        status = status.as_u16(),
        micros = elapsed.as_micros() as u64,
    );
    Ok(response)
}

/// Turns an error into its JSON answer ([`json_error`]) and keeps the route template the router left on
/// the error, for [`observe`]. A path that no route matched keeps none, even when it fell into a nested
/// router (`/api/…`), whose prefix the router would otherwise report.
pub(crate) async fn json_error_keeping_route(error: poem::Error) -> Response {
    let template = if error.is::<NotFoundError>() {
        None
    } else {
        error.data::<PathPattern>().cloned()
    };
    let mut response = json_error(error).await;
    if let Some(template) = template {
        response.set_data(template);
    }
    response
}

/// Refuses bodies over the configured size, whether announced by `Content-Length` or streamed.
pub(crate) async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let Some(state) = req.data::<AppState>().cloned() else {
        return Ok(next.call(req).await?.into_response());
    };
    let limit = state.config.limits.max_body_bytes;
    let too_large = || {
        error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "request body too large",
        )
    };
    let announced = req.header("content-length").and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Ok(too_large());
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        match req.take_body().into_bytes_limit(limit).await {
            Ok(bytes) => req.set_body(bytes),
            Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// Refuses state-changing API requests that a browser sent from another origin.
///
/// Browsers send `Origin` on cross-origin (and modern same-origin) POSTs and `Sec-Fetch-Site` on all
/// requests; a request with neither did not come from a page, so it cannot be a cross-site forgery.
/// This comes on top of `SameSite=Lax` on the session cookie.
pub(crate) async fn refuse_cross_origin<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if is_state_changing(req.method()) {
        let allowed = req
            .data::<AppState>()
            .map(|s| s.bound.allowed_origins.clone())
            .unwrap_or_default();
        let refused = match (req.header("origin"), req.header("sec-fetch-site")) {
            (Some(origin), _) => !allowed.iter().any(|a| a == origin),
            (None, Some(site)) => !matches!(site, "same-origin" | "none"),
            (None, None) => false,
        };
        if refused {
            // No path: it may carry an email (`/shares/{email}`); the access log names the route.
            tracing::warn!(
                origin = ?req.header("origin").unwrap_or("-"),
                "refused a cross-origin request"
            );
            return Err(AppError::CrossOrigin.into());
        }
    }
    Ok(next.call(req).await?.into_response())
}
