//! The HTTP surface: the JSON API (described at `/openapi.json`, browsable at `/docs`), the demo
//! gallery page at `/`, share links (`/s/{token}`, outside `/api` so they stay short and need no
//! session), health and metrics, and the middleware order.

mod auth;
mod client;
pub mod cursor;
mod dto;
mod gallery;
mod health;
mod images;
mod links;
mod middleware;
mod object_urls;
mod shares;

use poem::middleware::{CatchPanic, CookieJarManager};
use poem::{Endpoint, EndpointExt, Route, get};
use poem_openapi::OpenApiService;

use crate::app::AppState;
use crate::error::{json_error, panic_response};

fn api_service() -> OpenApiService<
    (
        auth::AuthApi,
        auth::CdnApi,
        images::ImagesApi,
        shares::SharesApi,
        links::LinksApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            auth::AuthApi,
            auth::CdnApi,
            images::ImagesApi,
            shares::SharesApi,
            links::LinksApi,
        ),
        "edgepass",
        env!("CARGO_PKG_VERSION"),
    )
    .server("/api")
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
    gallery::routes(Route::new())
        .nest("/api", api.around(middleware::refuse_cross_origin))
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .at("/s/:token", get(links::follow))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(health::metrics))
        .around(middleware::limit_body)
        .with(CookieJarManager::new())
        .with(CatchPanic::new().with_handler(panic_response))
        .catch_all_error(json_error)
        .around(middleware::observe)
        .data(state)
}
