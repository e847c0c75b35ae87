//! `Set-Cookie` values written beside the cookie jar.
//!
//! CloudFront reads one set of cookies with fixed names (`CloudFront-Policy`, …). An album's set has
//! the same names as the caller's own set and differs only in its `Path`, and one response may expire
//! one album's set and mint another's. The cookie jar keeps one cookie per name, so it would fold them
//! into one; these values go out as separate headers, in order.

use std::sync::{Arc, Mutex, PoisonError};

use poem::http::HeaderValue;
use poem::http::header::SET_COOKIE;
use poem::{Endpoint, IntoResponse, Request, Response};

/// The `Set-Cookie` values a handler adds to its answer, error or not.
#[derive(Clone, Debug, Default)]
pub(crate) struct SetCookieHeaders(Arc<Mutex<Vec<String>>>);

impl SetCookieHeaders {
    /// Adds values, sent after those added before.
    pub(crate) fn add(&self, values: impl IntoIterator<Item = String>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(values);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Gives each request a [`SetCookieHeaders`] and appends what the handler put there to the answer. An
/// error with nothing to add is passed on as it is, for the JSON error handling further out.
pub(crate) async fn append_set_cookies<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let headers = SetCookieHeaders::default();
    req.extensions_mut().insert(headers.clone());
    let outcome = next.call(req).await;
    let values = headers.take();
    if values.is_empty() {
        return outcome.map(IntoResponse::into_response);
    }
    let mut response = match outcome {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    };
    for value in values {
        let value = HeaderValue::from_str(&value).map_err(poem::error::InternalServerError)?;
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}
