//! A small JSON parser that keeps the line and column of every value, so
//! that errors in a profile can name both the JSON path and the position.
//!
//! It accepts exactly RFC 8259 JSON (no comments, no trailing commas),
//! never panics, and limits nesting depth so hostile input cannot exhaust
//! the stack.

use std::fmt;

/// Deepest nesting of arrays and objects accepted.
const MAX_DEPTH: usize = 128;

/// A position in the text: 1-based line and column (columns count chars).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in Unicode scalar values.
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A JSON number as written: kept exact when it is a non-negative integer.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    /// A non-negative integer that fits in 64 bits.
    Unsigned(u64),
    /// Any other number (negative, fractional, exponent, or too large), as written.
    Other(String),
}

/// A JSON value with the position of its first character.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value.
    pub value: Value,
}

/// The kinds of JSON values.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object: members in order, each key with its position.
    Object(Vec<(String, Pos, Node)>),
}

impl Value {
    /// The JSON type name, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// A syntax error: where and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What was wrong.
    pub message: String,
}

/// Parses one JSON document (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut p = Parser {
        text,
        chars: text.char_indices().peekable(),
        pos: Pos { line: 1, col: 1 },
    };
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if let Some(c) = p.peek() {
        return Err(p.err(format!(
            "expected end of input, found '{}'",
            c.escape_default()
        )));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    pos: Pos,
}

impl Parser<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().map(|&(_, c)| c)
    }

    fn bump(&mut self) -> Option<char> {
        let (_, c) = self.chars.next()?;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        Some(c)
    }

    fn err(&self, message: String) -> SyntaxError {
        SyntaxError {
            pos: self.pos,
            message,
        }
    }

    fn found(&mut self) -> String {
        match self.peek() {
            Some(c) => format!("'{}'", c.escape_default()),
            None => "end of input".to_string(),
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, want: char) -> Result<(), SyntaxError> {
        if self.peek() == Some(want) {
            self.bump();
            Ok(())
        } else {
            let found = self.found();
            Err(self.err(format!("expected '{want}', found {found}")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let pos = self.pos;
        let value = match self.peek() {
            Some('{') => self.object(depth)?,
            Some('[') => self.array(depth)?,
            Some('"') => Value::String(self.string()?),
            Some('-' | '0'..='9') => Value::Number(self.number()?),
            Some('t') => self.keyword("true", Value::Bool(true))?,
            Some('f') => self.keyword("false", Value::Bool(false))?,
            Some('n') => self.keyword("null", Value::Null)?,
            _ => {
                let found = self.found();
                return Err(self.err(format!("expected a JSON value, found {found}")));
            }
        };
        Ok(Node { pos, value })
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        for want in word.chars() {
            if self.peek() != Some(want) {
                let found = self.found();
                return Err(self.err(format!("expected '{word}', found {found}")));
            }
            self.bump();
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.bump();
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            let key_pos = self.pos;
            if self.peek() != Some('"') {
                let found = self.found();
                return Err(self.err(format!("expected a string key, found {found}")));
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(':')?;
            self.skip_ws();
            let v = self.value(depth + 1)?;
            members.push((key, key_pos, v));
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    return Ok(Value::Object(members));
                }
                _ => {
                    let found = self.found();
                    return Err(self.err(format!("expected ',' or '}}', found {found}")));
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.bump();
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => {
                    let found = self.found();
                    return Err(self.err(format!("expected ',' or ']', found {found}")));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| c.to_digit(16));
            match d {
                Some(d) => {
                    self.bump();
                    v = v * 16 + d;
                }
                None => {
                    let found = self.found();
                    return Err(
                        self.err(format!("expected a hex digit in \\u escape, found {found}"))
                    );
                }
            }
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.bump();
        // Fast path: no escape and no control character before the closing
        // quote (so no newline either): one copy, columns counted by chars.
        if let Some(&(start, _)) = self.chars.peek() {
            let rest = &self.text.as_bytes()[start..];
            if let Some(k) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            {
                if rest[k] == b'"' {
                    let s = &self.text[start..start + k];
                    let n = s.chars().count();
                    self.chars.nth(n);
                    self.pos.col += n + 1;
                    return Ok(s.to_string());
                }
            }
        }
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string".to_string())),
                Some('"') => {
                    self.bump();
                    return Ok(s);
                }
                Some('\\') => {
                    self.bump();
                    let c = match self.peek() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('/') => '/',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('u') => {
                            self.bump();
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi) {
                                if self.peek() != Some('\\') {
                                    return Err(self.err(
                                        "expected a low surrogate after a high surrogate"
                                            .to_string(),
                                    ));
                                }
                                self.bump();
                                self.expect('u')?;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(self.err(
                                        "expected a low surrogate after a high surrogate"
                                            .to_string(),
                                    ));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(c) => s.push(c),
                                None => {
                                    return Err(
                                        self.err(format!("invalid unicode escape \\u{code:04x}"))
                                    )
                                }
                            }
                            continue;
                        }
                        _ => {
                            let found = self.found();
                            return Err(self.err(format!("invalid escape, found {found}")));
                        }
                    };
                    self.bump();
                    s.push(c);
                }
                Some(c) if (c as u32) < 0x20 => {
                    return Err(self.err("control character in string".to_string()));
                }
                Some(c) => {
                    self.bump();
                    s.push(c);
                }
            }
        }
    }

    fn digits(&mut self, out: &mut String) -> usize {
        let mut n = 0;
        while let Some(c @ '0'..='9') = self.peek() {
            self.bump();
            out.push(c);
            n += 1;
        }
        n
    }

    fn number(&mut self) -> Result<Number, SyntaxError> {
        let mut text = String::new();
        let mut integer = true;
        if self.peek() == Some('-') {
            self.bump();
            text.push('-');
            integer = false;
        }
        if self.peek() == Some('0') {
            self.bump();
            text.push('0');
        } else if self.digits(&mut text) == 0 {
            let found = self.found();
            return Err(self.err(format!("expected a digit, found {found}")));
        }
        if self.peek() == Some('.') {
            self.bump();
            text.push('.');
            integer = false;
            if self.digits(&mut text) == 0 {
                let found = self.found();
                return Err(self.err(format!("expected a digit after '.', found {found}")));
            }
        }
        if let Some(e @ ('e' | 'E')) = self.peek() {
            self.bump();
            text.push(e);
            integer = false;
            if let Some(sign @ ('+' | '-')) = self.peek() {
                self.bump();
                text.push(sign);
            }
            if self.digits(&mut text) == 0 {
                let found = self.found();
                return Err(self.err(format!("expected a digit in the exponent, found {found}")));
            }
        }
        if integer {
            if let Ok(v) = text.parse::<u64>() {
                return Ok(Number::Unsigned(v));
            }
        }
        Ok(Number::Other(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_values() {
        let n = parse("{\n  \"a\": [1, -2, \"x\\u00e9\\ud83d\\ude00\"],\n  \"b\": null }").unwrap();
        let Value::Object(m) = n.value else { panic!() };
        assert_eq!(m[0].0, "a");
        assert_eq!(m[0].1, Pos { line: 2, col: 3 });
        let Value::Array(items) = &m[0].2.value else {
            panic!()
        };
        assert_eq!(items[0].value, Value::Number(Number::Unsigned(1)));
        assert_eq!(items[1].value, Value::Number(Number::Other("-2".into())));
        assert_eq!(items[2].value, Value::String("xé😀".into()));
        assert_eq!(items[1].pos, Pos { line: 2, col: 12 });
        assert_eq!(m[1].2.pos, Pos { line: 3, col: 8 });
        assert_eq!(
            parse("18446744073709551615").unwrap().value,
            Value::Number(Number::Unsigned(u64::MAX))
        );
        assert_eq!(
            parse("18446744073709551616").unwrap().value,
            Value::Number(Number::Other("18446744073709551616".into()))
        );
    }

    #[test]
    fn errors() {
        for (text, line, col) in [
            ("{\"a\": 1,}", 1, 9),
            ("[1 2]", 1, 4),
            ("\n  tru", 2, 6),
            ("\"abc", 1, 5),
            ("{} x", 1, 4),
            ("", 1, 1),
            ("01", 1, 2),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(
                (e.pos.line, e.pos.col),
                (line, col),
                "{text:?}: {}",
                e.message
            );
        }
        let deep = "[".repeat(1000);
        assert!(parse(&deep).is_err());
    }
}
