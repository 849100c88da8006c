//! The grammar: tokens of one file to statements (includes are not
//! followed here; see `build`).
//!
//! ```text
//! file    := stmt*
//! stmt    := 'default' action | 'bad-arch' action | 'unknown-syscall' action
//!          | 'arches' ARCH (',' ARCH)* | 'option' NAME ('on' | 'off')
//!          | 'include' STRING | 'arch' (ARCH | 'other') '{' rule* '}' | rule
//!          | 'define' NAME '=' NUMBER
//! NUMBER  := value ('|' value)*     value := INT | defined NAME | '(' NUMBER ')'
//! rule    := action (item | '{' item* '}')
//! item    := target (',' target)* ['if' cond]
//! target  := NAME | NUMBER | '@' GROUP | 'unnamed' range
//! cond    := conj ('||' conj)*          conj := atom ('&&' atom)*
//! atom    := '(' cond ')' | arg OP NUMBER | arg '&' NUMBER ('=='|'!=') NUMBER
//!          | '(' arg '&' NUMBER ')' ('=='|'!=') NUMBER | arg ['not'] 'in' set
//! arg     := ['(' 'u32' ')'] NAME       set := '{' range (',' range)* '}' | range
//! range   := NUMBER [('..=' | '..') NUMBER | '..']     (`A..`: up to the top)
//! action  := allow | log | notify | kill-process | kill-thread
//!          | trap ['(' N ')'] | trace ['(' N ')'] | errno '(' N | ENAME ')'
//! ```

use super::actions::{action_word, build, takes_data};
use super::ast::{ArgName, Cond, FilterOption, Op, RuleStmt, Stmt, StmtKind, Target, Test};
use super::error::{LangError, Location};
use super::lexer::{Tok, Token};
use crate::action::Action;
use crate::arch::Arch;
use crate::policy::Width;
use crate::profile::names::errno_number;

/// Deepest nesting of parentheses in a condition.
const MAX_NESTING: usize = 64;

/// The words that start a statement.
pub const STATEMENT_WORDS: &[&str] = &[
    "default",
    "bad-arch",
    "unknown-syscall",
    "arches",
    "option",
    "include",
    "arch",
    "define",
];

/// Names given values with `define NAME = VALUE`, and where.
pub type Defines = std::collections::HashMap<String, (u64, Location)>;

/// The parser of one file's tokens, one statement at a time (the caller
/// follows includes between statements, so that what an included file
/// defines is known after its `include`).
pub struct Parser<'a> {
    file: &'a str,
    toks: &'a [Token],
    i: usize,
    depth: usize,
    /// The names defined so far (by this file and what it included).
    pub defines: Defines,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `tokens` (which end with [`Tok::Eof`]).
    pub fn new(file: &'a str, tokens: &'a [Token], defines: Defines) -> Self {
        Parser {
            file,
            toks: tokens,
            i: 0,
            depth: 0,
            defines,
        }
    }

    /// Whether every statement was read.
    pub fn at_end(&self) -> bool {
        self.peek() == &Tok::Eof
    }

    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let last = self.toks.len() - 1;
        &self.toks[(self.i + n).min(last)].tok
    }

    fn loc(&self) -> Location {
        let last = self.toks.len() - 1;
        Location {
            file: self.file.to_string(),
            pos: self.toks[self.i.min(last)].pos,
        }
    }

    fn expected(&self, what: &str) -> LangError {
        LangError::at(
            &self.loc(),
            format!("expected {what}, found {}", self.peek().describe()),
        )
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Tok::Punct(q) if *q == p) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Tok::Word(x) if x == w) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str, what: &str) -> Result<(), LangError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn word(&mut self, what: &str) -> Result<String, LangError> {
        match self.peek() {
            Tok::Word(w) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Whether the next token is a number or a defined name.
    fn at_value(&self) -> bool {
        match self.peek() {
            Tok::Int(_) => true,
            Tok::Word(w) => self.defines.contains_key(w),
            _ => false,
        }
    }

    /// A value: numbers and defined names joined with `|` (bitwise or),
    /// grouped with parentheses: `PROT_READ | PROT_WRITE`.
    fn int(&mut self, what: &str) -> Result<u64, LangError> {
        let mut v = self.operand(what)?;
        while self.eat("|") {
            v |= self.operand("a number or a defined name after `|`")?;
        }
        Ok(v)
    }

    fn operand(&mut self, what: &str) -> Result<u64, LangError> {
        if self.peek() != &Tok::Punct("(") || self.at_cast() {
            return self.number(what);
        }
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(LangError::at(
                &self.loc(),
                format!("values nest deeper than {MAX_NESTING} parentheses"),
            ));
        }
        self.i += 1;
        let v = self.int(what)?;
        self.expect(")", "`)` or `|`")?;
        self.depth -= 1;
        Ok(v)
    }

    fn number(&mut self, what: &str) -> Result<u64, LangError> {
        match self.peek() {
            Tok::Int(v) => {
                let v = *v;
                self.i += 1;
                Ok(v)
            }
            Tok::Word(w) => match self.defines.get(w) {
                Some(&(v, _)) => {
                    self.i += 1;
                    Ok(v)
                }
                None => Err(LangError::at(
                    &self.loc(),
                    format!("expected {what}, found `{w}`, which is not defined (write `define {w} = VALUE` before using it)"),
                )),
            },
            _ => Err(self.expected(what)),
        }
    }

    fn define(&mut self) -> Result<StmtKind, LangError> {
        let loc = self.loc();
        let name = self.word("a name to define")?;
        if STATEMENT_WORDS.contains(&name.as_str())
            || action_word(&name)
            || ["if", "in", "not", "on", "off", "u32"].contains(&name.as_str())
        {
            return Err(LangError::at(
                &loc,
                format!("`{name}` is a word of the language and cannot be defined"),
            ));
        }
        self.expect("=", "`=` after the name")?;
        let v = self.int("the value (a number or a defined name)")?;
        if let Some((old, at)) = self.defines.get(&name) {
            if *old != v {
                return Err(LangError::at(
                    &loc,
                    format!("`{name}` is already defined as {old:#x} at {at}"),
                ));
            }
        }
        self.defines.insert(name.clone(), (v, loc));
        Ok(StmtKind::Define(name, v))
    }

    /// The next statement.
    pub fn stmt(&mut self) -> Result<Stmt, LangError> {
        let loc = self.loc();
        let Tok::Word(w) = self.peek().clone() else {
            return Err(self.expected("a statement (an action such as `allow`, or `default`, `arches`, `include`, `arch`, ...)"));
        };
        let kind = match w.as_str() {
            "default" => {
                self.i += 1;
                StmtKind::Default(self.action()?)
            }
            "bad-arch" => {
                self.i += 1;
                StmtKind::BadArch(self.action()?)
            }
            "unknown-syscall" => {
                self.i += 1;
                StmtKind::Unknown(self.action()?)
            }
            "arches" => {
                self.i += 1;
                let mut v = vec![self.arch()?];
                while self.eat(",") {
                    v.push(self.arch()?);
                }
                StmtKind::Arches(v)
            }
            "define" => {
                self.i += 1;
                self.define()?
            }
            "option" => {
                self.i += 1;
                let name_loc = self.loc();
                let name = self.word("an option name (no-new-privs, tsync, log, spec-allow)")?;
                let Some(&(opt, _)) = FilterOption::ALL.iter().find(|(_, n)| *n == name) else {
                    return Err(LangError::at(&name_loc, format!("unknown option `{name}` (expected no-new-privs, tsync, log or spec-allow)")));
                };
                let on = if self.eat_word("on") {
                    true
                } else if self.eat_word("off") {
                    false
                } else {
                    return Err(self.expected("`on` or `off`"));
                };
                StmtKind::Option(opt, on)
            }
            "include" => {
                self.i += 1;
                match self.peek().clone() {
                    Tok::Str(s) => {
                        self.i += 1;
                        StmtKind::Include(s)
                    }
                    _ => return Err(self.expected("a file name in double quotes")),
                }
            }
            "arch" => {
                self.i += 1;
                let arch = (!self.eat_word("other")).then(|| self.arch()).transpose()?;
                self.expect("{", "`{` to open the arch section")?;
                let mut rules = Vec::new();
                while !self.eat("}") {
                    if self.peek() == &Tok::Eof {
                        return Err(self.expected("`}` to close the arch section"));
                    }
                    rules.extend(self.rule()?);
                }
                StmtKind::ArchSection(arch, rules)
            }
            _ => StmtKind::Rules(self.rule()?),
        };
        Ok(Stmt { loc, kind })
    }

    fn arch(&mut self) -> Result<Arch, LangError> {
        let loc = self.loc();
        let w = self.word("an architecture name (x86_64, x86, x32, aarch64, ...)")?;
        Arch::from_name(&w).ok_or_else(|| {
            LangError::at(
                &loc,
                format!("unknown architecture `{w}` (expected x86_64, x86, x32, aarch64, arm, riscv64, s390x, ppc64le, ppc64, ppc, mips, mipsel, mips64, mipsel64 or loongarch64)"),
            )
        })
    }

    /// An action and one item, or an action and a `{ item* }` block.
    fn rule(&mut self) -> Result<Vec<RuleStmt>, LangError> {
        let loc = self.loc();
        let action = self.action()?;
        if self.eat("{") {
            let mut out = Vec::new();
            while !self.eat("}") {
                if self.peek() == &Tok::Eof {
                    return Err(self.expected("`}` to close the block"));
                }
                let loc = self.loc();
                let (targets, cond) = self.item()?;
                out.push(RuleStmt {
                    loc,
                    action,
                    targets,
                    cond,
                });
            }
            return Ok(out);
        }
        let (targets, cond) = self.item()?;
        Ok(vec![RuleStmt {
            loc,
            action,
            targets,
            cond,
        }])
    }

    fn item(&mut self) -> Result<(Vec<Target>, Option<Cond>), LangError> {
        let mut targets = vec![self.target()?];
        while self.eat(",") {
            targets.push(self.target()?);
        }
        let cond = if self.eat_word("if") {
            Some(self.cond()?)
        } else {
            None
        };
        Ok((targets, cond))
    }

    fn target(&mut self) -> Result<Target, LangError> {
        let loc = self.loc();
        match self.peek().clone() {
            Tok::Punct("@") => {
                self.i += 1;
                Ok(Target::Group(self.word("a group name after `@`")?, loc))
            }
            Tok::Word(w) if !STATEMENT_WORDS.contains(&w.as_str()) && action_word(&w) => {
                Err(self.expected("a syscall name, number or @group"))
            }
            Tok::Word(w) if w == "unnamed" => {
                self.i += 1;
                let (lo, hi) = self.range()?;
                let hi = hi.map_or(Ok(u32::MAX), |h| nr32(&loc, h))?;
                Ok(Target::Unnamed(nr32(&loc, lo)?, hi, loc))
            }
            Tok::Word(w) => {
                self.i += 1;
                Ok(Target::Name(w, loc))
            }
            Tok::Int(v) => {
                self.i += 1;
                Ok(Target::Nr(nr32(&loc, v)?, loc))
            }
            _ => Err(self.expected("a syscall name, number or @group")),
        }
    }

    pub fn action(&mut self) -> Result<Action, LangError> {
        let loc = self.loc();
        let what =
            "an action (allow, log, errno(N), trap, trace, notify, kill-thread, kill-process)";
        let w = self.word(what)?;
        let unknown = || LangError::at(&loc, format!("expected {what}, found `{w}`"));
        let data = match takes_data(&w).ok_or_else(unknown)? {
            Some(_) if self.eat("(") => self.action_data()?,
            Some(true) => {
                return Err(self.expected("`(` and an errno number or name, e.g. errno(EPERM)"))
            }
            _ => 0,
        };
        build(&w, data).ok_or_else(unknown)
    }

    /// `N)` or `ENAME)` after an action's `(`.
    fn action_data(&mut self) -> Result<u16, LangError> {
        let at = self.loc();
        let v = match self.peek().clone() {
            Tok::Int(v) => u16::try_from(v).map_err(|_| {
                LangError::at(
                    &at,
                    format!("{v} does not fit in the 16 data bits of a return value"),
                )
            })?,
            Tok::Word(name) => errno_number(&name.to_ascii_uppercase()).ok_or_else(|| {
                LangError::at(
                    &at,
                    format!(
                        "unknown errno name `{name}` (expected e.g. EPERM, ENOSYS or a number)"
                    ),
                )
            })?,
            _ => return Err(self.expected("a number or an errno name")),
        };
        self.i += 1;
        self.expect(")", "`)`")?;
        Ok(v)
    }

    fn cond(&mut self) -> Result<Cond, LangError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(LangError::at(
                &self.loc(),
                format!("conditions nest deeper than {MAX_NESTING} parentheses"),
            ));
        }
        let mut alts = vec![self.conj()?];
        while self.eat("||") {
            alts.push(self.conj()?);
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Cond::Or(alts)
        })
    }

    fn conj(&mut self) -> Result<Cond, LangError> {
        let mut all = vec![self.atom()?];
        while self.eat("&&") {
            all.push(self.atom()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Cond::And(all)
        })
    }

    /// Whether the tokens from here are `(u32)`.
    fn at_cast(&self) -> bool {
        self.peek() == &Tok::Punct("(")
            && self.peek_at(1) == &Tok::Word("u32".into())
            && self.peek_at(2) == &Tok::Punct(")")
    }

    fn atom(&mut self) -> Result<Cond, LangError> {
        if self.peek() == &Tok::Punct("(") && !self.at_cast() {
            // `(arg & MASK) == V` or a parenthesized condition.
            let save = self.i;
            self.i += 1;
            let masked_paren = {
                let skip = if self.at_cast() { 3 } else { 0 };
                matches!(self.peek_at(skip), Tok::Word(_))
                    && self.peek_at(skip + 1) == &Tok::Punct("&")
            };
            if masked_paren {
                let arg = self.arg()?;
                self.expect("&", "`&`")?;
                let mask = self.int("a mask (a number)")?;
                self.expect(")", "`)`")?;
                return self.masked_rest(arg, mask);
            }
            self.i = save + 1;
            let c = self.cond()?;
            self.expect(")", "`)` or `&&`/`||`")?;
            return Ok(c);
        }
        let arg = self.arg()?;
        if self.eat("&") {
            let mask = self.int("a mask (a number)")?;
            return self.masked_rest(arg, mask);
        }
        if self.eat_word("in") {
            let set = self.set()?;
            return Ok(Cond::Test(Test::In {
                arg,
                set,
                member: true,
            }));
        }
        if self.eat_word("not") {
            if !self.eat_word("in") {
                return Err(self.expected("`in` after `not`"));
            }
            let set = self.set()?;
            return Ok(Cond::Test(Test::In {
                arg,
                set,
                member: false,
            }));
        }
        let op = match self.peek() {
            Tok::Punct("==") => Op::Eq,
            Tok::Punct("!=") => Op::Ne,
            Tok::Punct("<") => Op::Lt,
            Tok::Punct("<=") => Op::Le,
            Tok::Punct(">") => Op::Gt,
            Tok::Punct(">=") => Op::Ge,
            _ => {
                return Err(self
                    .expected("a comparison (==, !=, <, <=, >, >=), `& MASK`, `in` or `not in`"))
            }
        };
        self.i += 1;
        let v = self.int("a number to compare with")?;
        Ok(Cond::Test(Test::Cmp(arg, op, v)))
    }

    fn masked_rest(&mut self, arg: ArgName, mask: u64) -> Result<Cond, LangError> {
        let equal = if self.eat("==") {
            true
        } else if self.eat("!=") {
            false
        } else {
            return Err(self
                .expected("`==` or `!=` after a mask (masked values compare only for equality)"));
        };
        let value = self.int("the value the masked bits must have")?;
        Ok(Cond::Test(Test::Masked {
            arg,
            mask,
            value,
            equal,
        }))
    }

    fn arg(&mut self) -> Result<ArgName, LangError> {
        let loc = self.loc();
        let width = if self.at_cast() {
            self.i += 3;
            Width::Bits32
        } else {
            Width::Bits64
        };
        let name = self.word("an argument (arg0..arg5 or a parameter name such as fd)")?;
        Ok(ArgName { name, width, loc })
    }

    fn set(&mut self) -> Result<Vec<(u64, Option<u64>)>, LangError> {
        if !self.eat("{") {
            return Ok(vec![self.range()?]);
        }
        let mut v = vec![self.range()?];
        while self.eat(",") {
            if self.peek() == &Tok::Punct("}") {
                break;
            }
            v.push(self.range()?);
        }
        self.expect("}", "`,` or `}`")?;
        Ok(v)
    }

    fn range(&mut self) -> Result<(u64, Option<u64>), LangError> {
        let loc = self.loc();
        let lo = self.int("a number or a range (A..=B, A..B or A..)")?;
        let hi = if self.eat("..=") {
            self.int("the last value of the range")?
        } else if self.eat("..") {
            if !self.at_value() {
                return Ok((lo, None));
            }
            let end = self.int("the end of the range (excluded)")?;
            end.checked_sub(1)
                .ok_or_else(|| LangError::at(&loc, "the range `..0` is empty".into()))?
        } else {
            lo
        };
        if lo > hi {
            return Err(LangError::at(
                &loc,
                format!("the range {lo}..={hi} is empty (expected the first value <= the last)"),
            ));
        }
        Ok((lo, Some(hi)))
    }
}

/// A syscall number written at `loc`: it must fit in 32 bits.
fn nr32(loc: &Location, v: u64) -> Result<u32, LangError> {
    let msg = |v: u64| format!("syscall number {v:#x} does not fit in 32 bits");
    u32::try_from(v).map_err(|_| LangError::at(loc, msg(v)))
}
