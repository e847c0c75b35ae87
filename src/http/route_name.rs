//! The name of a matched route, for the access log and the metrics: the path template as the API
//! documents it (`/api/images/{id}/shares/{user}`), whatever form the router keeps it in.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use poem_openapi::OpenApi;

use super::Apis;

/// The router's form of a documented path: poem-openapi routes `/images/{id}` as `/images/:param0`,
/// numbering the variables in order.
fn router_form(documented: &str) -> String {
    let mut variables = 0;
    documented
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                variables += 1;
                format!(":param{}", variables - 1)
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The documented path of every API operation, by its router form.
static API_ROUTES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    <Apis as OpenApi>::meta()
        .into_iter()
        .flat_map(|api| api.paths)
        .map(|path| (router_form(&path.path), path.path))
        .collect()
});

/// The name of the route the router matched, given the template it reports: the API's documented
/// path, else the template with each `:variable` written `{variable}` (`/s/{token}`).
pub(crate) fn route_name(template: &str) -> Cow<'static, str> {
    if let Some(documented) = API_ROUTES.get(template) {
        return Cow::Borrowed(documented.as_str());
    }
    let named = template
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(variable) => format!("{{{variable}}}"),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/");
    Cow::Owned(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_routes_are_named_as_documented() {
        assert_eq!(
            route_name("/api/images/:param0/shares/:param1"),
            "/api/images/{id}/shares/{user}"
        );
        assert_eq!(route_name("/api/images/:param0"), "/api/images/{id}");
        assert_eq!(route_name("/api/auth/login"), "/api/auth/login");
    }

    #[test]
    fn every_documented_operation_has_a_name() {
        let spec: serde_json::Value =
            serde_json::from_str(&super::super::openapi_json()).expect("the OpenAPI document");
        let paths = spec["paths"].as_object().expect("paths");
        assert!(!paths.is_empty());
        for documented in paths.keys() {
            assert!(
                API_ROUTES.values().any(|known| known == documented),
                "{documented} among {:?}",
                API_ROUTES.values()
            );
        }
    }

    #[test]
    fn other_routes_name_their_variables_in_braces() {
        assert_eq!(route_name("/s/:token"), "/s/{token}");
        assert_eq!(route_name("/healthz"), "/healthz");
    }
}
