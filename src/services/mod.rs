//! The application's use cases, one module each: what happens when a user registers, uploads, shares
//! or follows a link. Handlers in `http` parse a request, call one function here and render its result;
//! these functions take typed inputs, return typed results, and know nothing of requests, cookies or
//! status codes. Below them: `db`, the AWS clients, `signing` and the domain types.

pub mod account;
pub mod accounts;
pub mod albums;
pub mod cursor;
mod error;
pub mod images;
pub mod links;
mod object_urls;
pub mod paging;
pub mod sharing;
pub mod uploads;

pub use error::{ServiceError, ServiceResult};
pub use object_urls::ObjectUrl;
