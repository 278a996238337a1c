//! Reading one ADR: decoding its bytes and finding its heading and Status section.
//!
//! Only the parts the pair contract depends on are parsed; this is deliberately not a
//! Markdown parser. Fenced code blocks are skipped so an example heading inside a code
//! sample is never mistaken for the real one.

use std::ops::Range;

use crate::filename::AdrId;

const BOM: char = '\u{feff}';
const EM_DASH: char = '\u{2014}';

/// Decodes an ADR file: UTF-8 required (the offset of the first invalid byte is returned
/// otherwise), a leading BOM dropped, and CRLF turned into LF, so that files differing
/// only in editor conventions compare equal.
pub fn decode(bytes: &[u8]) -> Result<String, usize> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.valid_up_to())?;
    let text = text.strip_prefix(BOM).unwrap_or(text);
    Ok(text.replace("\r\n", "\n"))
}

/// How the ID is separated from the title in the first heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// `# ADR-0003: Title`
    Colon,
    /// `# ADR-0003 — Title`
    EmDash,
}

/// The first heading of an ADR, `# ADR-<token>: Title`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading<'a> {
    /// What follows `ADR-`: four digits in an accepted ADR, or a placeholder such as
    /// `XXXX` in a text about to be promoted.
    pub token: &'a str,
    /// Byte range of `token` within the whole text, for rewriting it in place.
    pub token_range: Range<usize>,
    /// The separator used.
    pub separator: Separator,
    /// The title, trimmed; may itself contain an em-dash.
    pub title: &'a str,
}

impl Heading<'_> {
    /// The ID, when the token is exactly four digits.
    pub fn id(&self) -> Option<AdrId> {
        AdrId::parse4(self.token)
    }
}

/// A line of the text outside fenced code blocks, with its byte offset.
fn prose_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fence: Option<&'static str> = None;
    let mut offset = 0;
    text.split('\n').filter_map(move |line| {
        let start = offset;
        offset += line.len() + 1;
        let trimmed = line.trim_start_matches(' ');
        let indent_ok = line.len() - trimmed.len() <= 3;
        let marker = ["```", "~~~"]
            .into_iter()
            .find(|m| indent_ok && trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => {
                fence = Some(m);
                None
            }
            (Some(open), Some(m)) if open == m => {
                fence = None;
                None
            }
            (Some(_), _) => None,
            (None, None) => Some((start, line)),
        }
    })
}

/// The ATX heading level of `line` (`## x` is 2), or `None` if it is not a heading.
fn heading_level(line: &str) -> Option<usize> {
    let level = line.bytes().take_while(|b| *b == b'#').count();
    let rest = &line[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with([' ', '\t'])))
        .then_some(level)
}

/// Finds and parses the first heading. The error says what was found instead, since
/// "missing heading" alone does not tell an author what to fix.
pub fn parse_heading(text: &str) -> Result<Heading<'_>, String> {
    let Some((start, line)) = prose_lines(text).find(|(_, l)| heading_level(l).is_some()) else {
        return Err("no heading found; the first heading must be `# ADR-NNNN: Title`".to_owned());
    };
    let bad = |why: &str| format!("first heading {:?} {why}", line.trim_end());
    if heading_level(line) != Some(1) {
        return Err(bad("is not a level-1 `# ADR-NNNN: Title` heading"));
    }
    let after_hash = line[1..].trim_start_matches([' ', '\t']);
    let Some(rest) = after_hash.strip_prefix("ADR-") else {
        return Err(bad("does not start with `ADR-NNNN`"));
    };
    let token_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if token_len == 0 {
        return Err(bad("has no number after `ADR-`"));
    }
    let token_start = start + (line.len() - rest.len());
    let token = &rest[..token_len];
    let after_token = rest[token_len..].trim_start_matches([' ', '\t']);
    let (separator, title) = if let Some(t) = after_token.strip_prefix(':') {
        (Separator::Colon, t)
    } else if let Some(t) = after_token.strip_prefix(EM_DASH) {
        (Separator::EmDash, t)
    } else {
        return Err(bad("needs `:` or ` — ` between the ID and the title"));
    };
    let title = title.trim();
    if title.is_empty() {
        return Err(bad("has an empty title"));
    }
    Ok(Heading {
        token,
        token_range: token_start..token_start + token_len,
        separator,
        title,
    })
}

/// The Status section of an ADR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No `## Status` heading.
    Missing,
    /// The heading is there but nothing follows it before the next heading.
    Empty,
    /// The text between `## Status` and the next heading, without the blank lines
    /// around it. Lines are kept verbatim (trailing spaces included): the contract is
    /// byte equality, and a one-byte difference must show.
    Text(String),
}

/// Extracts the first `## Status` section.
pub fn status(text: &str) -> Status {
    let mut lines = prose_lines(text);
    if !lines.any(|(_, l)| l.trim_end() == "## Status") {
        return Status::Missing;
    }
    let body: Vec<&str> = lines
        .take_while(|(_, l)| heading_level(l).is_none())
        .map(|(_, l)| l)
        .collect();
    let blank = |l: &&str| l.trim().is_empty();
    let first = body.iter().position(|l| !blank(l));
    let last = body.iter().rposition(|l| !blank(l));
    match (first, last) {
        (Some(first), Some(last)) => Status::Text(body[first..=last].join("\n")),
        _ => Status::Empty,
    }
}

/// Rewrites the ID in the first heading to `id`, leaving every other byte alone.
pub fn rewrite_heading_id(text: &str, id: AdrId) -> Result<String, String> {
    let heading = parse_heading(text)?;
    let range = heading.token_range;
    Ok(format!(
        "{}{id}{}",
        &text[..range.start],
        &text[range.end..]
    ))
}

/// Byte offset of the first difference between two strings, for pointing at the one
/// byte that differs in a long Status.
pub fn first_difference(a: &str, b: &str) -> usize {
    a.bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.len().min(b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headings() {
        let h = parse_heading("# ADR-0003: Use X — mostly\n").ok();
        assert_eq!(h.as_ref().map(|h| h.title), Some("Use X — mostly"));
        assert_eq!(h.as_ref().and_then(Heading::id), Some(AdrId(3)));
        let h = parse_heading("\n# ADR-0004 — Use Y — really\n").ok();
        assert_eq!(h.as_ref().map(|h| h.separator), Some(Separator::EmDash));
        assert_eq!(h.as_ref().map(|h| h.title), Some("Use Y — really"));
        let h = parse_heading("# ADR-XXXX: Draft\n").ok();
        assert_eq!(h.as_ref().map(|h| h.token), Some("XXXX"));
        assert_eq!(h.and_then(|h| h.id()), None);
        assert!(parse_heading("## ADR-0003: x\n").is_err());
        assert!(parse_heading("# ADR-0003 - x\n").is_err());
        assert!(parse_heading("# ADR-0003:\n").is_err());
        assert!(parse_heading("```\n# ADR-0003: x\n```\n").is_err());
    }

    #[test]
    fn extracts_status() {
        let t = "# ADR-0001: T\n\n## Status\n\nAccepted\n\n## Context\nx\n";
        assert_eq!(status(t), Status::Text("Accepted".to_owned()));
        assert_eq!(status("# A\n## Status\n\n## Context\n"), Status::Empty);
        assert_eq!(status("# A\n## Context\n"), Status::Missing);
        assert_eq!(
            status("# A\n```\n## Status\n```\n## Status\nSuperseded by ADR-0007\n"),
            Status::Text("Superseded by ADR-0007".to_owned())
        );
    }

    #[test]
    fn decodes() {
        assert_eq!(decode(b"\xef\xbb\xbfa\r\nb"), Ok("a\nb".to_owned()));
        assert_eq!(decode(b"ab\xffc"), Err(2));
    }

    #[test]
    fn rewrites_only_the_id() {
        let t = "intro\n# ADR-XXXX — T: ADR-XXXX\n## Status\n";
        assert_eq!(
            rewrite_heading_id(t, AdrId(12)).ok().as_deref(),
            Some("intro\n# ADR-0012 — T: ADR-XXXX\n## Status\n")
        );
    }
}
