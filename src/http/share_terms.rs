//! The optional body of `PUT /api/images/{id}/shares/{user}`, described in the API document like any
//! other body, but optional: no body (or only whitespace) means a grant until revoked.
//!
//! Its numbers are taken as JSON gives them, so that a negative, fractional or huge one is refused as
//! out of range (422, by the service) rather than as a malformed body (400).

use std::borrow::Cow;

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, Object};
use serde_json::Value;

use super::error::AppError;
use crate::domain::InvalidInput;
use crate::services::sharing::GrantTerm;

/// A number of seconds as JSON wrote it; whether it is whole and in range is judged later.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Seconds(serde_json::Number);

impl Seconds {
    fn whole(&self, field: &'static str) -> Result<u64, InvalidInput> {
        self.0.as_u64().ok_or_else(|| InvalidInput {
            field,
            reason: "must be a whole number of seconds".to_owned(),
        })
    }
}

impl Type for Seconds {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "integer_int64".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new_with_format("integer", "int64");
        schema.minimum = Some(0.0);
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for Seconds {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::Number(number) => Ok(Self(number)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Seconds {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Number(self.0.clone()))
    }
}

/// How long a grant lasts: at most one of the two; neither means until revoked.
#[derive(Clone, Debug, Default, Object)]
#[oai(deny_unknown_fields)]
pub(crate) struct ShareTerms {
    /// When the grant ends (epoch seconds): after now, and not after 253402300799
    /// (9999-12-31T23:59:59Z).
    pub expires_at: Option<Seconds>,
    /// How long the grant lasts from now, in seconds (ending by 9999-12-31T23:59:59Z).
    pub expires_in: Option<Seconds>,
}

impl ShareTerms {
    /// The term these terms set.
    pub(crate) fn term(&self) -> Result<GrantTerm, InvalidInput> {
        match (&self.expires_at, &self.expires_in) {
            (Some(_), Some(_)) => Err(InvalidInput {
                field: "expires_in",
                reason: "give expires_at or expires_in, not both".to_owned(),
            }),
            (Some(at), None) => Ok(GrantTerm::At(at.whole("expires_at")?)),
            (None, Some(secs)) => Ok(GrantTerm::For(secs.whole("expires_in")?)),
            (None, None) => Ok(GrantTerm::UntilRevoked),
        }
    }
}

/// The request body, when there is one.
pub(crate) struct OptionalTerms(pub ShareTerms);

impl<'a> ApiExtractor<'a> for OptionalTerms {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        ShareTerms::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some("Optional: without a body the grant lasts until revoked."),
            content: vec![MetaMediaType {
                content_type: "application/json; charset=utf-8",
                schema: ShareTerms::schema_ref(),
            }],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let bytes = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(ShareTerms::default()));
        }
        let malformed =
            |reason: String| AppError::BadRequest(format!("the body is not a share's terms: {reason}"));
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| malformed(error.to_string()))?;
        let terms =
            ShareTerms::parse_from_json(Some(value)).map_err(|error| malformed(error.into_message()))?;
        Ok(Self(terms))
    }
}
