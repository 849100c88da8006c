//! Tokens of seccomp-tools' assembly language.
//!
//! The rules follow seccomp-tools' scanner: `#` starts a comment, `name:`
//! defines a label, `goto`/`jmp`/`jump` take the next word as a jump target,
//! `? jt : jf` gives the two targets of a conditional, keywords and arch
//! constants are case-insensitive, actions (`ALLOW`, `ERRNO`, ...) are upper
//! case. Positions are 1-based lines and columns counted in characters, so
//! no input can make the lexer slice inside a UTF-8 sequence.

use super::parse::AsmError;

/// A keyword of the language (case-insensitive in the source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// `A`: the accumulator.
    A,
    /// `X`: the index register.
    X,
    /// `if`.
    If,
    /// `else`.
    Else,
    /// `return`.
    Return,
    /// `mem`: scratch memory `M[]`.
    Mem,
    /// `args`: low (or whole) words of the syscall arguments.
    Args,
    /// `args_h`: high words of the syscall arguments.
    ArgsH,
    /// `data`: raw 32-bit words of `struct seccomp_data`.
    Data,
    /// `len`: `sizeof(struct seccomp_data)`.
    Len,
    /// `sys_number`: `seccomp_data.nr`.
    SysNumber,
    /// `arch`: `seccomp_data.arch`.
    Arch,
    /// `instruction_pointer`.
    InstructionPointer,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        let kw = match word.to_ascii_lowercase().as_str() {
            "a" => Keyword::A,
            "x" => Keyword::X,
            "if" => Keyword::If,
            "else" => Keyword::Else,
            "return" => Keyword::Return,
            "mem" => Keyword::Mem,
            "args" => Keyword::Args,
            "args_h" => Keyword::ArgsH,
            "data" => Keyword::Data,
            "len" => Keyword::Len,
            "sys_number" => Keyword::SysNumber,
            "arch" => Keyword::Arch,
            "instruction_pointer" => Keyword::InstructionPointer,
            _ => return None,
        };
        Some(kw)
    }
}

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// One or more line breaks.
    Newline,
    /// `name:`, a label definition (the name, without the colon).
    LabelDef(String),
    /// `goto`, `jmp` or `jump`.
    Goto,
    /// A jump target: the word after `goto`, or one side of `? jt : jf`.
    Target(String),
    /// A keyword.
    Keyword(Keyword),
    /// An action name: `ALLOW`, `ERRNO`, ... with its `SECCOMP_RET_*` value.
    Action(u32),
    /// An `ARCH_*` constant with its `AUDIT_ARCH_*` value.
    ArchVal(u32),
    /// Any other word: a syscall name, possibly `arch.name`.
    Ident(String),
    /// An integer literal (decimal or `0x` hex, optionally negative).
    Int(i64),
    /// Punctuation or an operator: `+ - * / | ^ << >> == != >= <= > < & ( ) [ ] = !`.
    Op(&'static str),
    /// `/* no-op */`: what the disassembler prints for a conditional jump
    /// whose both offsets are 0.
    NoOp,
}

/// One token with its position (1-based line and column) and source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Its text as written.
    pub text: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

/// Operators in the order seccomp-tools tries them: ALU operators, then
/// comparisons, then single punctuation.
const OPERATORS: [&str; 21] = [
    "+", "-", "*", "/", "|", "^", "<<", ">>", "==", "!=", ">=", "<=", ">", "<", "(", ")", "=", "[",
    "]", "&", "!",
];

/// `SECCOMP_RET_*` values of the action names seccomp-tools accepts.
const ACTIONS: [(&str, u32); 9] = [
    ("KILL_PROCESS", crate::action::SECCOMP_RET_KILL_PROCESS),
    ("KILL_THREAD", crate::action::SECCOMP_RET_KILL_THREAD),
    ("KILL", crate::action::SECCOMP_RET_KILL_THREAD),
    ("TRAP", crate::action::SECCOMP_RET_TRAP),
    ("ERRNO", crate::action::SECCOMP_RET_ERRNO),
    ("USER_NOTIF", crate::action::SECCOMP_RET_USER_NOTIF),
    ("LOG", crate::action::SECCOMP_RET_LOG),
    ("TRACE", crate::action::SECCOMP_RET_TRACE),
    ("ALLOW", crate::action::SECCOMP_RET_ALLOW),
];

/// The text of [`TokenKind::NoOp`].
const NO_OP_TEXT: &str = "/* no-op */";
const NO_OP: [char; 11] = ['/', '*', ' ', 'n', 'o', '-', 'o', 'p', ' ', '*', '/'];

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Ruby's `\s`: space, tab, CR, form feed, vertical tab (newline is a token).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\x0c' | '\x0b')
}

/// The `AUDIT_ARCH_*` value of an `ARCH_*` constant (case-insensitive).
fn arch_value(word: &str) -> Option<u32> {
    let upper = word.to_ascii_uppercase();
    let name = upper.strip_prefix("ARCH_")?;
    crate::arch::Arch::ALL
        .into_iter()
        .find(|a| a.audit_name() == name)
        .map(|a| a.audit())
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    col: usize,
    tokens: Vec<Token>,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn word(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek(0).filter(|&c| is_word(c)) {
            s.push(c);
            self.bump();
        }
        s
    }

    /// Skips spaces, line breaks included (seccomp-tools' `\s+` after `goto`
    /// and around `? :`).
    fn skip_all_space(&mut self) {
        while self.peek(0).is_some_and(|c| is_space(c) || c == '\n') {
            self.bump();
        }
    }

    fn push(&mut self, kind: TokenKind, text: String, line: usize, col: usize) {
        self.tokens.push(Token {
            kind,
            text,
            line,
            col,
        });
    }

    /// The run of non-space characters at the current position, for errors.
    fn junk(&self) -> String {
        self.chars[self.pos..]
            .iter()
            .take_while(|c| !c.is_whitespace())
            .take(40)
            .collect()
    }

    fn error(&self, line: usize, col: usize, message: String) -> AsmError {
        AsmError { line, col, message }
    }

    /// A jump target word after `goto` or in `? jt : jf`.
    fn target(&mut self, what: &str) -> Result<(), AsmError> {
        let (line, col) = (self.line, self.col);
        let w = self.word();
        if w.is_empty() {
            let found = self.found_here();
            return Err(self.error(
                line,
                col,
                format!("expected a label or a number {what}, found {found}"),
            ));
        }
        self.push(TokenKind::Target(w.clone()), w, line, col);
        Ok(())
    }

    fn found_here(&self) -> String {
        match self.peek(0) {
            None => "end of input".into(),
            Some('\n') => "end of line".into(),
            Some(_) => format!("'{}'", self.junk()),
        }
    }

    /// A negative number literal (`-` directly followed by digits).
    fn negative_number(&mut self, line: usize, col: usize) -> Result<(), AsmError> {
        self.bump();
        let w = self.word();
        self.number(format!("-{w}"), &w, true, line, col)
    }

    fn number(
        &mut self,
        text: String,
        digits: &str,
        negative: bool,
        line: usize,
        col: usize,
    ) -> Result<(), AsmError> {
        let hex = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"));
        let parsed = match hex {
            Some(h) if !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()) => {
                i64::from_str_radix(h, 16).ok()
            }
            Some(_) => None,
            None if digits.chars().all(|c| c.is_ascii_digit()) => digits.parse::<i64>().ok(),
            None => None,
        };
        let Some(v) = parsed else {
            return Err(self.error(
                line,
                col,
                format!("expected a number (decimal or 0x hex, at most 32 bits), found '{text}'"),
            ));
        };
        let v = if negative { -v } else { v };
        self.push(TokenKind::Int(v), text, line, col);
        Ok(())
    }

    fn word_token(&mut self, line: usize, col: usize) -> Result<(), AsmError> {
        let w = self.word();
        if self.peek(0) == Some(':') {
            self.bump();
            let text = format!("{w}:");
            self.push(TokenKind::LabelDef(w), text, line, col);
            return Ok(());
        }
        if w.starts_with(|c: char| c.is_ascii_digit()) {
            return self.number(w.clone(), &w, false, line, col);
        }
        if matches!(w.to_ascii_lowercase().as_str(), "goto" | "jmp" | "jump") {
            self.push(TokenKind::Goto, w.clone(), line, col);
            if !self.peek(0).is_some_and(|c| is_space(c) || c == '\n') {
                let found = self.found_here();
                return Err(self.error(
                    self.line,
                    self.col,
                    format!("expected a label or a number after '{w}', found {found}"),
                ));
            }
            self.skip_all_space();
            return self.target(&format!("after '{w}'"));
        }
        if let Some(kw) = Keyword::from_word(&w) {
            self.push(TokenKind::Keyword(kw), w, line, col);
            return Ok(());
        }
        if let Some(&(_, v)) = ACTIONS.iter().find(|(name, _)| *name == w) {
            self.push(TokenKind::Action(v), w, line, col);
            return Ok(());
        }
        if let Some(v) = arch_value(&w) {
            self.push(TokenKind::ArchVal(v), w, line, col);
            return Ok(());
        }
        let mut name = w;
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(is_word) {
            self.bump();
            name.push('.');
            name.push_str(&self.word());
        }
        self.push(TokenKind::Ident(name.clone()), name, line, col);
        Ok(())
    }

    fn question(&mut self, line: usize, col: usize) -> Result<(), AsmError> {
        self.bump();
        self.skip_all_space();
        self.target("after '?'")?;
        self.skip_all_space();
        if self.peek(0) != Some(':') {
            let found = self.found_here();
            return Err(self.error(
                self.line,
                self.col,
                format!(
                    "expected ':' in '? LABEL : LABEL' (started at {line}:{col}), found {found}"
                ),
            ));
        }
        self.bump();
        self.skip_all_space();
        self.target("after ':'")
    }

    fn run(mut self) -> Result<Vec<Token>, AsmError> {
        while let Some(c) = self.peek(0) {
            let (line, col) = (self.line, self.col);
            if c == '\n' {
                while self.peek(0) == Some('\n') {
                    self.bump();
                }
                if !self.tokens.is_empty() {
                    self.push(TokenKind::Newline, "\n".into(), line, col);
                }
            } else if is_space(c) {
                self.bump();
            } else if c == '#' {
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if is_word(c) {
                self.word_token(line, col)?;
            } else if c == '-' && self.peek(1).is_some_and(|d| d.is_ascii_digit()) {
                self.negative_number(line, col)?;
            } else if self.chars[self.pos..].starts_with(&NO_OP) {
                for _ in 0..NO_OP.len() {
                    self.bump();
                }
                self.push(TokenKind::NoOp, NO_OP_TEXT.into(), line, col);
            } else if c == '?' {
                self.question(line, col)?;
            } else if let Some(op) = OPERATORS.iter().find(|op| {
                op.chars()
                    .enumerate()
                    .all(|(i, oc)| self.peek(i) == Some(oc))
            }) {
                for _ in 0..op.chars().count() {
                    self.bump();
                }
                self.push(TokenKind::Op(op), (*op).to_string(), line, col);
            } else {
                let junk = self.junk();
                return Err(self.error(
                    line,
                    col,
                    format!(
                        "expected an instruction, a label, a number or an operator, found '{junk}'"
                    ),
                ));
            }
        }
        Ok(self.tokens)
    }
}

/// Splits assembly text into tokens. Fails at the first character sequence
/// that is no token of the language.
pub fn tokenize(src: &str) -> Result<Vec<Token>, AsmError> {
    Lexer {
        chars: src.chars().collect(),
        pos: 0,
        line: 1,
        col: 1,
        tokens: Vec::new(),
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn operators_split_like_seccomp_tools() {
        use TokenKind::*;
        assert_eq!(
            kinds("A <<= 2"),
            [Keyword(super::Keyword::A), Op("<<"), Op("="), Int(2)]
        );
        assert_eq!(
            kinds("A >= -0x10"),
            [Keyword(super::Keyword::A), Op(">="), Int(-16)]
        );
        assert_eq!(
            kinds("a == x ? ok : next"),
            [
                Keyword(super::Keyword::A),
                Op("=="),
                Keyword(super::Keyword::X),
                Target("ok".into()),
                Target("next".into())
            ]
        );
    }

    #[test]
    fn labels_goto_and_comments() {
        use TokenKind::*;
        assert_eq!(
            kinds("0003: goto 0010 # c\n\nret: return ALLOW"),
            [
                LabelDef("0003".into()),
                Goto,
                Target("0010".into()),
                Newline,
                LabelDef("ret".into()),
                Keyword(super::Keyword::Return),
                Action(0x7fff_0000)
            ]
        );
        assert_eq!(
            kinds("amd64.write arch_x86_64 ARCH"),
            [
                Ident("amd64.write".into()),
                ArchVal(0xc000_003e),
                Keyword(super::Keyword::Arch)
            ]
        );
    }

    #[test]
    fn positions_count_characters() {
        let e = tokenize("A = 1\n  é = 2").unwrap_err();
        assert_eq!((e.line, e.col), (2, 3));
        let t = tokenize("\n\n  return A").unwrap();
        assert_eq!((t[0].line, t[0].col), (3, 3));
    }
}
