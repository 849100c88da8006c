//! Tokens of the policy language: words, integers, strings and
//! punctuation, each with the line and column it starts at.

use super::error::{LangError, Pos};

/// Most tokens one file may have (bounds memory on hostile input).
pub const MAX_TOKENS: usize = 1 << 20;

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A word: `allow`, `read`, `kill-process`, `fd`, `x86_64`.
    Word(String),
    /// An integer (decimal, `0x`, `0o`, `0b`; `-N` is `2^64 - N`).
    Int(u64),
    /// A double-quoted string (`include "base.policy"`).
    Str(String),
    /// Punctuation: `{ } ( ) , & && | || == != < <= > >= ..= .. @ =`.
    Punct(&'static str),
    /// End of the file.
    Eof,
}

impl Tok {
    /// How the token is named in "expected X, found Y".
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Int(v) => format!("the number {v}"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "the end of the file".to_string(),
        }
    }
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Its position.
    pub pos: Pos,
}

/// Punctuation, longest first so that `<=` wins over `<`.
const PUNCT: &[&str] = &[
    "..=", "&&", "||", "==", "!=", "<=", ">=", "..", "{", "}", "(", ")", ",", "&", "<", ">", "@",
    "=", "|",
];

/// Splits `text` into tokens; `file` names it in errors. The last token
/// is [`Tok::Eof`].
pub fn tokenize(file: &str, text: &str) -> Result<Vec<Token>, LangError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let err = |line, col, msg: String| LangError::new(file, Pos { line, col }, msg);
    while i < bytes.len() {
        let c = bytes[i];
        let pos = Pos { line, col };
        if c == b'\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            col += 1;
            continue;
        }
        if c == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if out.len() >= MAX_TOKENS {
            return Err(err(
                line,
                col,
                format!("more than {MAX_TOKENS} tokens in one file"),
            ));
        }
        let start = i;
        let tok = if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
            {
                i += 1;
            }
            Tok::Word(text[start..i].to_string())
        } else if c.is_ascii_digit()
            || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let neg = c == b'-';
            if neg {
                i += 1;
            }
            let digits = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let lit = &text[digits..i];
            if lit.len() > 1 && lit.starts_with('0') && lit.as_bytes()[1].is_ascii_digit() {
                // C reads 0755 as octal, people often as decimal: refuse both.
                return Err(err(
                    line,
                    col,
                    format!(
                        "`{lit}` has a leading zero (write 0o{} for octal or {} for decimal)",
                        &lit[1..],
                        lit.trim_start_matches('0')
                    ),
                ));
            }
            let v = parse_int(&text[digits..i]).ok_or_else(|| {
                err(
                    line,
                    col,
                    format!(
                        "`{}` is not a number (expected decimal, 0x hex, 0o octal or 0b binary that fits in 64 bits)",
                        &text[start..i]
                    ),
                )
            })?;
            Tok::Int(if neg { v.wrapping_neg() } else { v })
        } else if c == b'"' {
            i += 1;
            let body = i;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] != b'"' {
                return Err(err(
                    line,
                    col,
                    "unterminated string (expected a closing `\"` on the same line)".into(),
                ));
            }
            i += 1;
            Tok::Str(text[body..i - 1].to_string())
        } else if let Some(p) = PUNCT.iter().find(|p| text[i..].starts_with(**p)) {
            i += p.len();
            Tok::Punct(p)
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(err(
                line,
                col,
                format!("unexpected character {ch:?} (expected a word, a number, a string or punctuation)"),
            ));
        };
        col += text[start..i].chars().count() as u32;
        out.push(Token { tok, pos });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: Pos { line, col },
    });
    Ok(out)
}

/// Parses `123`, `0x7b`, `0o173`, `0b1111011` (underscores allowed).
pub fn parse_int(s: &str) -> Option<u64> {
    let s: String = s.chars().filter(|&c| c != '_').collect();
    let lower = s.to_ascii_lowercase();
    let (digits, radix) = if let Some(h) = lower.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (o, 8)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (b, 2)
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize("t", s)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn words_numbers_punct() {
        assert_eq!(
            toks("kill-process fd<=0x10 # c\n-1 ..= \"a b\""),
            vec![
                Tok::Word("kill-process".into()),
                Tok::Word("fd".into()),
                Tok::Punct("<="),
                Tok::Int(16),
                Tok::Int(u64::MAX),
                Tok::Punct("..="),
                Tok::Str("a b".into()),
                Tok::Eof
            ]
        );
        let t = tokenize("t", "a\n  b").unwrap();
        assert_eq!((t[1].pos.line, t[1].pos.col), (2, 3));
    }

    #[test]
    fn bad_input() {
        let e = tokenize("f.policy", "allow\n  read $").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (2, 8));
        assert!(tokenize("f", "0x1_0000_0000_0000_0000").is_err());
        assert!(tokenize("f", "\"open").is_err());
        assert!(tokenize("f", "12abc").is_err());
        let e = tokenize("f", "mode == 0755").unwrap_err();
        assert!(
            e.message
                .contains("write 0o755 for octal or 755 for decimal"),
            "{e}"
        );
        assert_eq!(
            toks("0 0o755 0x0"),
            vec![Tok::Int(0), Tok::Int(0o755), Tok::Int(0), Tok::Eof]
        );
    }
}
