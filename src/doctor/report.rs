//! What the doctor found: one finding per check, each `ok`, `warn` or `fail` with a line on how to fix
//! it, and the exit status of the worst.

use std::fmt;

use serde::Serialize;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not checked because a check it builds on failed (named in the message); counts as nothing.
    Skip,
    /// As it should be.
    Ok,
    /// Works, but is fragile or costly; the fix says what to change.
    Warn,
    /// Viewers get 403s, or private images are exposed, until it is fixed.
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pad, so that a width in the format string lines the statuses up.
        f.pad(match self {
            Self::Skip => "skip",
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "fail",
        })
    }
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's stable name (`distribution`, `behavior.users`, `bucket.cors`…).
    pub check: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found, on one line.
    pub message: String,
    /// How to fix it, on one line; `None` when there is nothing to fix.
    pub fix: Option<String>,
}

impl Finding {
    /// An `ok` finding.
    pub fn ok(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Ok,
            message: message.into(),
            fix: None,
        }
    }

    /// A `warn` finding with its fix.
    pub fn warn(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::problem(check, Status::Warn, message, fix)
    }

    /// A `fail` finding with its fix.
    pub fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::problem(check, Status::Fail, message, fix)
    }

    /// A check not made because `failed` (another check) already failed.
    pub fn skip(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Skip,
            message: message.into(),
            fix: None,
        }
    }

    fn problem(
        check: &'static str,
        status: Status,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            check,
            status,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Every finding, in the order the checks ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The findings.
    pub checks: Vec<Finding>,
}

impl Report {
    /// The worst status among the findings (`ok` when there are none, or only skips).
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|finding| finding.status)
            .max()
            .unwrap_or(Status::Ok)
            .max(Status::Ok)
    }

    /// 0 when every check passed, 1 for a warning at worst, 2 for a failure.
    pub fn exit_code(&self) -> u8 {
        match self.worst() {
            Status::Skip | Status::Ok => 0,
            Status::Warn => 1,
            Status::Fail => 2,
        }
    }

    /// The finding of `check`, if it ran.
    pub fn finding(&self, check: &str) -> Option<&Finding> {
        self.checks.iter().find(|finding| finding.check == check)
    }

    /// The report as a JSON document: the findings, the worst status and the exit code.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "checks": self.checks,
            "worst": self.worst(),
            "exit_code": self.exit_code(),
        })
    }
}

impl fmt::Display for Report {
    /// One line per check (`status  check  message`), then its fix indented below it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
        for finding in &self.checks {
            writeln!(
                f,
                "{:<4}  {:<width$}  {}",
                finding.status, finding.check, finding.message
            )?;
            if let Some(fix) = &finding.fix {
                writeln!(f, "{:<4}  {:<width$}  fix: {fix}", "", "")?;
            }
        }
        let counts = [Status::Ok, Status::Warn, Status::Fail, Status::Skip].map(|status| {
            let n = self.checks.iter().filter(|c| c.status == status).count();
            format!("{n} {status}")
        });
        write!(f, "{}", counts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_follows_the_worst_finding_and_skips_count_for_nothing() {
        let mut report = Report {
            checks: vec![Finding::ok("a", "fine"), Finding::skip("b", "not checked")],
        };
        assert_eq!((report.worst(), report.exit_code()), (Status::Ok, 0));
        report.checks.push(Finding::warn("c", "fragile", "change it"));
        assert_eq!((report.worst(), report.exit_code()), (Status::Warn, 1));
        report.checks.push(Finding::fail("d", "broken", "fix it"));
        assert_eq!((report.worst(), report.exit_code()), (Status::Fail, 2));
        assert_eq!(report.to_json()["exit_code"], 2);
        assert_eq!(report.to_json()["checks"][3]["status"], "fail");
        let text = report.to_string();
        let fix_line = format!("fail  d  broken\n{}fix: fix it", " ".repeat(9));
        assert!(text.contains(&fix_line), "{text}");
        assert!(text.ends_with("1 ok, 1 warn, 1 fail, 1 skip"), "{text}");
    }
}
