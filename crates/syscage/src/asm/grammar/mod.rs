//! The grammar of seccomp-tools' assembly language: tokens to statements
//! with unresolved jump targets.
//!
//! A recursive-descent reading of seccomp-tools' `sasm.y`. Nested
//! parentheses and `!( )` are read with counters, not recursion, so no
//! input can exhaust the stack.

use super::lexer::{Keyword, Token, TokenKind};
use super::parse::AsmError;
use crate::arch::Arch;
use crate::bpf::{AluOp, Insn, JmpCond, Src};

/// A jump target as written: a label, `next`, or a relative number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The word (`next`, `allow`, `0010`, `2`).
    pub name: String,
    /// 1-based line of the word.
    pub line: usize,
    /// 1-based column of the word.
    pub col: usize,
}

/// One statement: an instruction, maybe with jump targets still to resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    /// An instruction without jump targets.
    Plain(Insn),
    /// `goto T` (`BPF_JA`).
    Goto(Target),
    /// A conditional jump; `None` targets mean "the next statement".
    Cond {
        /// The kernel condition.
        cond: JmpCond,
        /// Its operand.
        src: Src,
        /// Where to go when the condition holds.
        jt: Option<Target>,
        /// Where to go when it does not.
        jf: Option<Target>,
    },
}

/// A statement with the labels defined on it and its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Labels that name this statement.
    pub labels: Vec<Target>,
    /// The statement.
    pub stmt: Stmt,
    /// 1-based line where it starts.
    pub line: usize,
    /// 1-based column where it starts.
    pub col: usize,
}

mod operand;

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    arch: Arch,
}

/// How a token is shown in "found ..." messages.
fn describe(t: Option<&Token>) -> String {
    match t {
        None => "end of input".into(),
        Some(t) if t.kind == TokenKind::Newline => "end of line".into(),
        Some(t) => format!("'{}'", t.text),
    }
}

const ALU_OPS: [(&str, AluOp); 9] = [
    ("+", AluOp::Add),
    ("-", AluOp::Sub),
    ("*", AluOp::Mul),
    ("/", AluOp::Div),
    ("|", AluOp::Or),
    ("&", AluOp::And),
    ("<<", AluOp::Lsh),
    (">>", AluOp::Rsh),
    ("^", AluOp::Xor),
];

/// Comparison operators: the kernel condition and whether the targets swap.
const COMPARES: [(&str, JmpCond, bool); 7] = [
    ("==", JmpCond::Eq, false),
    ("!=", JmpCond::Eq, true),
    (">=", JmpCond::Ge, false),
    ("<=", JmpCond::Gt, true),
    (">", JmpCond::Gt, false),
    ("<", JmpCond::Ge, true),
    ("&", JmpCond::Set, false),
];

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Option<&'a Token> {
        self.tokens.get(self.pos + ahead)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// Position for an error about the current token (or the end).
    fn here(&self) -> (usize, usize) {
        match self.peek().or_else(|| self.tokens.last()) {
            Some(t) if self.peek().is_some() => (t.line, t.col),
            Some(t) => (t.line, t.col + t.text.chars().count()),
            None => (1, 1),
        }
    }

    fn expected(&self, what: &str) -> AsmError {
        let (line, col) = self.here();
        AsmError {
            line,
            col,
            message: format!("expected {what}, found {}", describe(self.peek())),
        }
    }

    fn error_at(t: &Token, message: String) -> AsmError {
        AsmError {
            line: t.line,
            col: t.col,
            message,
        }
    }

    fn skip_newlines(&mut self) {
        while self.peek().is_some_and(|t| t.kind == TokenKind::Newline) {
            self.pos += 1;
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Op(o), .. }) if *o == op)
    }

    fn is_kw(&self, kw: Keyword) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Keyword(k), .. }) if *k == kw)
    }

    fn expect_op(&mut self, op: &str) -> Result<(), AsmError> {
        if self.is_op(op) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(&format!("'{op}'")))
        }
    }

    fn program(&mut self) -> Result<Vec<Statement>, AsmError> {
        let mut out = Vec::new();
        loop {
            self.skip_newlines();
            let Some(first) = self.peek() else { break };
            let mut labels = Vec::new();
            while let Some(Token {
                kind: TokenKind::LabelDef(name),
                line,
                col,
                ..
            }) = self.peek()
            {
                if name == "next" {
                    return Err(Self::error_at(
                        self.peek().unwrap_or(first),
                        "expected a label name other than 'next' (reserved: it means the next statement)".into(),
                    ));
                }
                labels.push(Target {
                    name: name.clone(),
                    line: *line,
                    col: *col,
                });
                self.pos += 1;
                self.skip_newlines();
            }
            let Some(start) = self.peek() else {
                return Err(self.expected("an instruction after the label"));
            };
            let stmt = self.statement()?;
            out.push(Statement {
                labels,
                stmt,
                line: start.line,
                col: start.col,
            });
        }
        Ok(out)
    }

    fn statement(&mut self) -> Result<Stmt, AsmError> {
        let Some(t) = self.peek() else {
            return Err(self.expected("an instruction"));
        };
        match &t.kind {
            TokenKind::Keyword(Keyword::A) => {
                self.pos += 1;
                self.a_statement()
            }
            TokenKind::Keyword(Keyword::X) => {
                self.pos += 1;
                self.expect_op("=")?;
                self.x_rvalue()
            }
            TokenKind::Keyword(Keyword::Mem) => {
                let idx = self.memory()?;
                self.expect_op("=")?;
                match self.peek().map(|t| &t.kind) {
                    Some(TokenKind::Keyword(Keyword::A)) => {
                        self.pos += 1;
                        Ok(Stmt::Plain(Insn::St(idx)))
                    }
                    Some(TokenKind::Keyword(Keyword::X)) => {
                        self.pos += 1;
                        Ok(Stmt::Plain(Insn::Stx(idx)))
                    }
                    _ => Err(self.expected("'A' or 'X'")),
                }
            }
            TokenKind::Keyword(Keyword::If) => {
                self.pos += 1;
                self.conditional()
            }
            TokenKind::Goto => Ok(Stmt::Goto(self.goto_expr()?)),
            TokenKind::NoOp => {
                self.pos += 1;
                Ok(Stmt::Plain(Insn::Ja(0)))
            }
            TokenKind::Keyword(Keyword::Return) => {
                self.pos += 1;
                self.return_value()
            }
            _ => Err(self.expected(
                "an instruction ('A ...', 'X = ...', 'mem[i] = ...', 'if', 'goto', 'return' or '/* no-op */')",
            )),
        }
    }

    /// After a leading `A`: `A op= v`, `A = v` or `A cmp v ? jt : jf`.
    fn a_statement(&mut self) -> Result<Stmt, AsmError> {
        let op = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Op(o)) => *o,
            _ => return Err(self.expected("'=', an operator like '+=' or a comparison after 'A'")),
        };
        if op == "=" {
            self.pos += 1;
            return self.a_rvalue();
        }
        let alu = ALU_OPS.iter().find(|(s, _)| *s == op).map(|&(_, a)| a);
        let next_is_assign = matches!(self.peek_at(1).map(|t| &t.kind), Some(TokenKind::Op("=")));
        if let (Some(alu), true) = (alu, next_is_assign) {
            self.pos += 2;
            self.skip_newlines();
            let src = self.x_constexpr()?;
            return Ok(Stmt::Plain(Insn::Alu(alu, src)));
        }
        if let Some(&(_, cond, swap)) = COMPARES.iter().find(|(s, _, _)| *s == op) {
            self.pos += 1;
            let src = self.x_constexpr()?;
            let jt = self.target("a jump target ('? LABEL : LABEL')")?;
            let jf = self.target("a second jump target ('? LABEL : LABEL')")?;
            let (jt, jf) = if swap { (jf, jt) } else { (jt, jf) };
            return Ok(Stmt::Cond {
                cond,
                src,
                jt: non_next(jt),
                jf: non_next(jf),
            });
        }
        if alu.is_some() {
            self.pos += 1;
            return Err(self.expected(&format!("'=' after 'A {op}'")));
        }
        Err(self.expected("'=', an operator like '+=' or a comparison after 'A'"))
    }

    fn target(&mut self, what: &str) -> Result<Target, AsmError> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::Target(name),
                line,
                col,
                ..
            }) => {
                self.pos += 1;
                Ok(Target {
                    name: name.clone(),
                    line: *line,
                    col: *col,
                })
            }
            _ => Err(self.expected(what)),
        }
    }

    fn goto_expr(&mut self) -> Result<Target, AsmError> {
        if !matches!(self.peek().map(|t| &t.kind), Some(TokenKind::Goto)) {
            return Err(self.expected("'goto'"));
        }
        self.pos += 1;
        self.target("a label or a number after 'goto'")
    }

    /// `if (cond) goto T [else goto F]`, `cond` possibly wrapped in `!( )`.
    fn conditional(&mut self) -> Result<Stmt, AsmError> {
        self.expect_op("(")?;
        self.skip_newlines();
        let mut bangs = 0usize;
        while self.is_op("!") {
            self.pos += 1;
            self.expect_op("(")?;
            bangs += 1;
        }
        if !self.is_kw(Keyword::A) {
            return Err(self.expected("'A' (conditions compare the A register)"));
        }
        self.pos += 1;
        self.skip_newlines();
        let op = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Op(o)) => *o,
            _ => return Err(self.expected("a comparison (==, !=, >, >=, <, <=, &)")),
        };
        let Some(&(_, cond, swap)) = COMPARES.iter().find(|(s, _, _)| *s == op) else {
            return Err(self.expected("a comparison (==, !=, >, >=, <, <=, &)"));
        };
        self.pos += 1;
        self.skip_newlines();
        let src = self.x_constexpr()?;
        for _ in 0..bangs {
            self.expect_op(")")?;
        }
        self.skip_newlines();
        self.expect_op(")")?;
        self.skip_newlines();
        let jt = self.goto_expr()?;
        self.skip_newlines();
        let jf = if self.is_kw(Keyword::Else) {
            self.pos += 1;
            self.skip_newlines();
            Some(self.goto_expr()?)
        } else {
            None
        };
        let (mut jt, mut jf) = (non_next(jt), jf.and_then(non_next));
        if swap != (bangs % 2 == 1) {
            std::mem::swap(&mut jt, &mut jf);
        }
        Ok(Stmt::Cond { cond, src, jt, jf })
    }

    fn return_value(&mut self) -> Result<Stmt, AsmError> {
        match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Keyword(Keyword::A)) => {
                self.pos += 1;
                Ok(Stmt::Plain(Insn::RetA))
            }
            Some(TokenKind::Action(v)) => {
                let v = *v;
                self.pos += 1;
                if !self.is_op("(") {
                    return Ok(Stmt::Plain(Insn::Ret(v)));
                }
                self.pos += 1;
                let t = self.peek();
                let data = self.constexpr()?;
                if data > u32::from(u16::MAX) {
                    return Err(Self::error_at(
                        t.unwrap_or(&self.tokens[self.pos - 1]),
                        format!("expected action data from 0 to 65535 (SECCOMP_RET_DATA), found {data:#x}"),
                    ));
                }
                self.expect_op(")")?;
                Ok(Stmt::Plain(Insn::Ret(v | data)))
            }
            _ if self.starts_constexpr() => Ok(Stmt::Plain(Insn::Ret(self.constexpr()?))),
            _ => Err(self.expected("'A', an action (ALLOW, ERRNO(n), KILL, ...) or a number")),
        }
    }
}

/// A target of `next` is the same as none.
fn non_next(t: Target) -> Option<Target> {
    (t.name != "next").then_some(t)
}

/// Parses tokens into statements; syscall names resolve on `arch`.
pub fn parse(tokens: &[Token], arch: Arch) -> Result<Vec<Statement>, AsmError> {
    Parser {
        tokens,
        pos: 0,
        arch,
    }
    .program()
}
