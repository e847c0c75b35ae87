//! The HTTP surface: the JSON API (described at `/openapi.json`, browsable at `/docs`), the demo
//! gallery page at `/`, share links (`/s/{token}`, outside `/api` so they stay short and need no
//! session), health, and the middleware order; and the metrics listener's one route.

mod account;
mod account_export;
mod albums;
mod auth;
mod client;
mod cookie_sets;
mod dto;
pub mod error;
mod gallery;
mod health;
mod images;
mod links;
mod middleware;
mod route_name;
mod share_terms;
mod shares;

use poem::middleware::{CatchPanic, CookieJarManager};
use std::sync::Arc;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, get};
use poem_openapi::OpenApiService;

use crate::app::AppState;
use error::{json_error, panic_response};

/// Every API operation.
type Apis = (
    auth::AuthApi,
    account::AccountApi,
    auth::CdnApi,
    images::ImagesApi,
    shares::SharesApi,
    albums::AlbumsApi,
    links::LinksApi,
    links::FollowApi,
);

fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            auth::AuthApi,
            account::AccountApi,
            auth::CdnApi,
            images::ImagesApi,
            shares::SharesApi,
            albums::AlbumsApi,
            links::LinksApi,
            links::FollowApi,
        ),
        "edgepass",
        env!("CARGO_PKG_VERSION"),
    )
}

/// The OpenAPI document served at `/openapi.json`.
pub fn openapi_json() -> String {
    api_service().spec()
}

/// Every route with its middleware. Order, outermost first: state, access log and metrics (which see the
/// final status), JSON errors, panics as 500s, cookies, body limit, cross-origin refusal.
pub fn routes(state: AppState) -> impl Endpoint + 'static {
    let api = api_service();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    // One document and one endpoint for the API under `/api` and the share links at `/s/`, which stay
    // outside it so that links are short.
    let api = Arc::new(api.into_endpoint());
    gallery::routes(Route::new())
        .nest_no_strip(
            "/api",
            Arc::clone(&api)
                .around(cookie_sets::append_set_cookies)
                .around(middleware::refuse_cross_origin),
        )
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest_no_strip("/s", api.around(links::no_store_no_referrer))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .around(middleware::limit_body)
        .with(CookieJarManager::new())
        .with(CatchPanic::new().with_handler(panic_response))
        .catch_all_error(middleware::json_error_keeping_route)
        .around(middleware::observe)
        .data(state)
}

/// The metrics listener's routes: `GET /metrics` and nothing else. It is not the public listener, so
/// that what the metrics say about the service stays with whoever can reach that address.
pub fn metrics_routes(state: AppState) -> impl Endpoint + 'static {
    Route::new()
        .at("/metrics", get(health::metrics))
        .catch_all_error(json_error)
        .data(state)
}
