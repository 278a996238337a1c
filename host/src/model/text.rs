//! Guest text is data: before it reaches a terminal or a message, its control characters
//! (ESC, BEL, NUL, CR, newlines ...) are written as escapes, so it can neither drive the
//! terminal nor leave the field it was printed in.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\0`, `\x1b`,
/// `\u{85}`). Text without any is returned as it is.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// `text` in double quotes, escaped as [`escape_control`] does plus `"` and `\`, so the
/// quote cannot be closed or faked from inside.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => push_escaped(&mut out, c),
        }
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if c.is_control() && (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_escapes_and_plain_text_is_untouched() {
        assert!(matches!(escape_control("plain text"), Cow::Borrowed(_)));
        assert_eq!(
            escape_control("\x1b[2J\x07 a\0b\rc\nstatus    ok\u{85}"),
            "\\x1b[2J\\x07 a\\0b\\rc\\nstatus    ok\\u{85}"
        );
        assert_eq!(quote("say \"hi\" \\ \n"), "\"say \\\"hi\\\" \\\\ \\n\"");
    }
}
