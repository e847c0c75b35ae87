//! Explanations as text: one line per request, and with `verbose` the detail under it.
//!
//! Nothing secret is printed: signatures are shortened, and of the cookies only the `CloudFront-*`
//! names appear (the policy decoded, the key-pair id and hash in full, as they are not secret).

use std::fmt::Write;

use super::{Explanation, Reason, Used, timestamp};
use crate::signing::SignatureSource;

/// The report of `explanations`: a line each, the detail under it when `verbose`, then a total.
pub fn render(explanations: &[Explanation], verbose: bool) -> String {
    let mut out = String::new();
    for explanation in explanations {
        push_line(&mut out, &summary(explanation));
        if verbose {
            for line in detail(explanation).lines() {
                push_line(&mut out, line);
            }
        }
    }
    let denied = explanations.iter().filter(|e| !e.allowed()).count();
    let _ = writeln!(
        out,
        "{} request{} to the CDN: {} allowed, {denied} denied",
        explanations.len(),
        if explanations.len() == 1 { "" } else { "s" },
        explanations.len() - denied,
    );
    out
}

/// Adds `line` and a line break, with every control character in it written as an escape: URLs,
/// cookie Paths and policies come from a HAR file someone else may have made, and must neither move
/// the terminal's cursor nor start a line that looks like another request's.
fn push_line(out: &mut String, line: &str) {
    for c in line.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\n');
}

/// `ALLOW GET url (...)` or `DENY GET url: reason`.
pub fn summary(explanation: &Explanation) -> String {
    let mut line = match &explanation.decision {
        Ok(grant) => format!(
            "ALLOW {} {} ({}; valid {} s more)",
            explanation.method,
            explanation.url,
            source_label(explanation),
            grant.expires.saturating_sub(explanation.at)
        ),
        Err(_) => format!(
            "DENY  {} {}: {}",
            explanation.method,
            explanation.url,
            denial_line(explanation)
        ),
    };
    let recorded = explanation.status;
    let disagrees = match explanation.decision {
        Ok(_) => recorded == 403,
        Err(_) => (200..300).contains(&recorded) || recorded == 304,
    };
    if disagrees {
        let _ = write!(line, " [but the response was {recorded}]");
    }
    line
}

fn source_label(explanation: &Explanation) -> String {
    match &explanation.used {
        Used::Url => "signed URL".to_owned(),
        Used::Set(i) => format!("cookies at {}", explanation.sent[*i].path_label()),
        Used::Mixed(_) => "cookies from several sets".to_owned(),
        Used::Nothing => "no signature".to_owned(),
    }
}

fn denial_line(explanation: &Explanation) -> String {
    let reason = explanation
        .reason
        .as_ref()
        .map_or_else(String::new, ToString::to_string);
    let mut line = match &explanation.reason {
        Some(Reason::Expired { .. }) => format!("{reason}, by {}", explanation.clock),
        _ => reason,
    };
    if explanation.sent.is_empty() && explanation.used != Used::Url {
        for held in &explanation.held_not_sent {
            let _ = write!(
                line,
                "; a cookie set is held at {} but not sent for this URL: {}",
                held.set.path_label(),
                held.why
            );
            match &held.if_sent {
                Ok(_) => line.push_str(" (sent, it would be allowed)"),
                Err(_) => {
                    let _ = write!(line, " (sent, it would be refused too: {})", counterfactual(held));
                }
            }
        }
        if explanation.held_not_sent.is_empty() && explanation.reason == Some(Reason::NothingSent) {
            line.push_str(" (the browser holds no CloudFront cookie set: signed out, or never signed in)");
        }
    }
    if matches!(explanation.used, Used::Mixed(_)) {
        line.push_str(" (CloudFront read cookies of several sets: see --verbose)");
    }
    line
}

/// The reason a held set would be refused, in the same words as a sent one's.
fn counterfactual(held: &super::HeldNotSent) -> String {
    match &held.if_sent {
        Ok(_) => "allowed".to_owned(),
        Err(crate::signing::Denial::ResourceMismatch) => format!(
            "resource mismatch: the policy's Resource {} does not cover this URL",
            held.resource.as_deref().unwrap_or("(none)")
        ),
        Err(denial) => denial.to_string(),
    }
}

/// The detail under a request's line, indented.
pub fn detail(explanation: &Explanation) -> String {
    let mut out = String::new();
    let entry = explanation
        .entry
        .map_or_else(String::new, |i| format!("HAR entry {i}, "));
    let _ = writeln!(
        out,
        "    {entry}judged at {} (by {}); response status {}",
        timestamp(explanation.at),
        explanation.clock,
        if explanation.status == 0 {
            "none".to_owned()
        } else {
            explanation.status.to_string()
        }
    );
    if explanation.sent.is_empty() {
        out.push_str("    CloudFront cookie sets sent: none\n");
    }
    for (i, set) in explanation.sent.iter().enumerate() {
        let names: Vec<&str> = set.cookies.iter().map(|(n, _)| n.as_str()).collect();
        let _ = writeln!(
            out,
            "    sent set {}: {}{}{}: {}",
            i + 1,
            set.path_label(),
            domain_label(set),
            set.set_by
                .map_or_else(String::new, |e| format!(", set by HAR entry {e}")),
            names.join(", ")
        );
    }
    let used = match &explanation.used {
        Used::Url => "the signed URL's parameters (cookies are ignored when the query holds any)".to_owned(),
        Used::Nothing => "nothing: no signing value was sent".to_owned(),
        Used::Set(i) if explanation.sent.len() > 1 => format!(
            "sent set {} (the first of each name; browsers send the longest Path first)",
            i + 1
        ),
        Used::Set(i) => format!("sent set {}", i + 1),
        Used::Mixed(names) => {
            let parts: Vec<String> = names
                .iter()
                .map(|(name, set)| format!("{name} of set {}", set + 1))
                .collect();
            format!("a mix, the first of each name: {}", parts.join(", "))
        }
    };
    let _ = writeln!(out, "    CloudFront reads: {used}");
    if let Some(presented) = &explanation.presented
        && !presented.is_empty()
    {
        let source = match presented.source {
            SignatureSource::Url => "URL",
            SignatureSource::Cookies => "cookies",
        };
        let _ = writeln!(
            out,
            "    from the {source}: key-pair id {}, hash {}, signature {}",
            presented.key_pair_id.as_deref().unwrap_or("(none)"),
            presented.hash.as_deref().unwrap_or("(none: SHA1)"),
            presented
                .signature
                .as_deref()
                .map_or_else(|| "(none)".to_owned(), shorten)
        );
        match (&explanation.policy, &presented.policy) {
            (Some(policy), Some(_)) => {
                let _ = writeln!(out, "    custom policy: {policy}");
            }
            (Some(policy), None) => {
                let _ = writeln!(out, "    canned policy (rebuilt from the URL): {policy}");
            }
            (None, _) => out.push_str("    policy: none that decodes\n"),
        }
    }
    for held in &explanation.held_not_sent {
        let names: Vec<&str> = held.set.cookies.iter().map(|(n, _)| n.as_str()).collect();
        let _ = writeln!(
            out,
            "    held, not sent: {}{}{} ({}): {}; sent, it would be {}",
            held.set.path_label(),
            domain_label(&held.set),
            held.set
                .set_by
                .map_or_else(String::new, |e| format!(", set by HAR entry {e}")),
            names.join(", "),
            held.why,
            match &held.if_sent {
                Ok(_) => "allowed".to_owned(),
                Err(_) => format!("refused: {}", counterfactual(held)),
            }
        );
    }
    let decision = match &explanation.decision {
        Ok(grant) => format!(
            "allow (key {}, {}, until {})",
            grant.key_pair_id,
            grant.hash,
            timestamp(grant.expires)
        ),
        Err(denial) => format!("deny, {} ({})", denial, denial.cloudfront_code()),
    };
    let _ = writeln!(out, "    decision: {decision}");
    out
}

fn domain_label(set: &super::CookieSet) -> String {
    match (&set.domain, set.host_only) {
        (Some(domain), true) => format!(" (host-only, {domain})"),
        (Some(domain), false) => format!(" (Domain={domain})"),
        (None, _) => String::new(),
    }
}

/// The first and last characters of a signature and its length: enough to tell two apart.
fn shorten(signature: &str) -> String {
    let chars: Vec<char> = signature.chars().collect();
    if chars.len() <= 16 {
        return format!("{} chars", chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail} ({} chars)", chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_the_har_are_printed_as_escapes() {
        let mut out = String::new();
        push_line(
            &mut out,
            "GET https://cdn.example/x?\u{1b}[31mred\nALLOW GET forged\r",
        );
        assert_eq!(
            out,
            "GET https://cdn.example/x?\\u{1b}[31mred\\nALLOW GET forged\\r\n"
        );
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn signatures_are_shortened() {
        let signature = "A".repeat(40) + "wxyz";
        assert_eq!(shorten(&signature), "AAAAAA…wxyz (44 chars)");
        assert_eq!(shorten("short"), "5 chars");
    }
}
