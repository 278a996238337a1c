//! The `NNNN-slug.md` naming rule.
//!
//! Both trees use the *same* file name for the two halves of a pair; the language is
//! carried by the folder, never by a suffix. So `0003-foo.en.md` / `0003-foo.ko.md`
//! are rejected with their own finding, because that is the most likely mistake.

use std::fmt;

/// An ADR number, `0001` to `9999`. Displayed zero-padded to four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdrId(pub u16);

impl AdrId {
    /// The highest number that fits the four-digit format.
    pub const MAX: u16 = 9999;

    /// Parses exactly four ASCII digits (`"0003"`); anything else is not an ID.
    pub fn parse4(s: &str) -> Option<Self> {
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok().map(AdrId)
        } else {
            None
        }
    }
}

impl fmt::Display for AdrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// Language suffixes that must not appear: the folder carries the language.
const LANGUAGE_SUFFIXES: &[&str] = &["en", "ko", "kr"];

/// What a file name in `docs/adr` or `docs/adr-ko` turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameKind {
    /// `NNNN-slug.md`, the only accepted form.
    Valid {
        /// The number from the name.
        id: AdrId,
    },
    /// `NNNN-slug.en.md` and the like. `bare` is the name without the suffix, used to
    /// still pair the file with its mirror so one mistake yields one finding.
    LanguageSuffix {
        /// The suffix found, e.g. `en`.
        lang: String,
        /// The name with the language suffix removed.
        bare: String,
    },
    /// Anything else ending in `.md`.
    Bad {
        /// Why the name was rejected.
        reason: String,
    },
}

/// Classifies a Markdown file name (the caller has already filtered on `.md`).
pub fn classify(name: &str) -> NameKind {
    let Some(stem) = name.strip_suffix(".md") else {
        return NameKind::Bad {
            reason: "extension must be lowercase `.md`".to_owned(),
        };
    };
    if let Some((base, lang)) = stem.rsplit_once('.') {
        let lower = lang.to_ascii_lowercase();
        if LANGUAGE_SUFFIXES.contains(&lower.as_str()) {
            return NameKind::LanguageSuffix {
                lang: lang.to_owned(),
                bare: format!("{base}.md"),
            };
        }
    }
    match parse_stem(stem) {
        Ok((id, _slug)) => NameKind::Valid { id },
        Err(reason) => NameKind::Bad { reason },
    }
}

/// Splits `NNNN-slug` into its parts, or says what is wrong with it.
pub fn parse_stem(stem: &str) -> Result<(AdrId, &str), String> {
    let (num, slug) = match stem.split_once('-') {
        Some(parts) => parts,
        None => return Err("expected `NNNN-slug.md`, found no `-` after the number".to_owned()),
    };
    let id = AdrId::parse4(num)
        .ok_or_else(|| format!("expected four digits before the first `-`, found {num:?}"))?;
    if !is_valid_slug(slug) {
        return Err(format!(
            "slug {slug:?} must be lowercase letters and digits, separated by `-` or `_`"
        ));
    }
    Ok((id, slug))
}

/// A slug is lowercase ASCII letters and digits, with `-` and `_` allowed between
/// them (not leading or trailing), so names sort and link predictably.
pub fn is_valid_slug(slug: &str) -> bool {
    let bytes = slug.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first)
                && alnum(last)
                && bytes.iter().all(|b| alnum(b) || *b == b'-' || *b == b'_')
        }
        _ => false,
    }
}

/// The number a file name *claims*, even if the rest of the name is malformed
/// (`0003-Bad Name.en.md` still claims 0003). Used for duplicate detection, pairing
/// hints and choosing the next free number, where a bad name must still block reuse.
pub fn leading_id(name: &str) -> Option<AdrId> {
    let (num, _) = name.split_once('-')?;
    AdrId::parse4(num)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_names() {
        assert_eq!(
            classify("0003-foo-bar_baz.md"),
            NameKind::Valid { id: AdrId(3) }
        );
        assert!(
            matches!(classify("0003-foo.en.md"), NameKind::LanguageSuffix { ref bare, .. } if bare == "0003-foo.md")
        );
        assert!(matches!(classify("3-foo.md"), NameKind::Bad { .. }));
        assert!(matches!(classify("0003-Foo.md"), NameKind::Bad { .. }));
        assert!(matches!(classify("0003-.md"), NameKind::Bad { .. }));
        assert!(matches!(classify("0003-foo-.md"), NameKind::Bad { .. }));
        assert!(matches!(classify("00031-foo.md"), NameKind::Bad { .. }));
        assert_eq!(leading_id("0012-Bad Name.md"), Some(AdrId(12)));
        assert_eq!(AdrId(7).to_string(), "0007");
    }
}
