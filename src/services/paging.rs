//! Listings a page at a time: the page size asked for, the position a page continues after, and the
//! cursor handed out for the next page.

use crate::db::images::Position;
use crate::domain::InvalidInput;

use super::cursor;

/// Items per page unless the caller says otherwise.
pub const DEFAULT_PAGE: u32 = 50;
/// The largest page.
pub const MAX_PAGE: u32 = 100;

/// Which page a caller asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page, 1 to [`MAX_PAGE`].
    pub limit: u32,
    /// The position the page continues after; `None` for the first page.
    pub after: Option<Position>,
}

impl PageRequest {
    /// The page size (default [`DEFAULT_PAGE`]) and the cursor of the previous page, as the caller gave
    /// them.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, InvalidInput> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(InvalidInput {
                field: "limit",
                reason: format!("must be between 1 and {MAX_PAGE}"),
            });
        }
        let after = cursor
            .map(|text| {
                cursor::decode(text).ok_or_else(|| InvalidInput {
                    field: "cursor",
                    reason: "is not a cursor this API returned".to_owned(),
                })
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> u64 {
        u64::from(self.limit) + 1
    }

    /// Cuts `rows` (fetched with [`Self::fetch`]) to the page, with the cursor of the next page if any.
    pub fn page<T>(&self, mut rows: Vec<T>, position: impl Fn(&T) -> Position) -> Page<T> {
        let limit = self.limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| cursor::encode(&position(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in listing order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item changed by `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::ImageId;

    fn position(n: &i64) -> Position {
        Position {
            created_at: *n,
            id: ImageId::parse("abcdefghijklmnopqrstuvwxyz").expect("id"),
        }
    }

    #[test]
    fn a_full_page_with_more_behind_it_names_its_last_item_as_the_next_start() {
        let request = PageRequest::parse(Some(2), None).expect("valid");
        assert_eq!(request.fetch(), 3);
        let page = request.page(vec![30, 20, 10], position);
        assert_eq!(page.items, vec![30, 20]);
        let next = PageRequest::parse(Some(2), page.next_cursor.as_deref()).expect("cursor");
        assert_eq!(next.after, Some(position(&20)));
        assert_eq!(request.page(vec![30, 20], position).next_cursor, None);
    }

    #[test]
    fn out_of_range_sizes_and_foreign_cursors_are_refused() {
        for limit in [0, MAX_PAGE + 1] {
            assert_eq!(PageRequest::parse(Some(limit), None).unwrap_err().field, "limit");
        }
        assert_eq!(
            PageRequest::parse(None, Some("nope")).unwrap_err().field,
            "cursor"
        );
        assert_eq!(
            PageRequest::parse(None, None).expect("default").limit,
            DEFAULT_PAGE
        );
    }
}
