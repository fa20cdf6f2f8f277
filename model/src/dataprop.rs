//! Properties as data: a small predicate language over the model state's
//! named fields, read from a properties file (`*.props`) and checked and
//! reported exactly like the built-in properties ([`crate::property`]).
//!
//! ```text
//! # a comment runs to the end of the line
//! property no_requeue_on_dead_head
//!   "at rest, no bio is left on the requeue list once the head disk is no longer live"
//!   at_rest: requeue == 0 || head.disk_live;
//! ```
//!
//! A declaration is `property NAME ["description"] MODE: EXPR;` with MODE
//! one of `always` (every reachable state), `at_rest` (every state where
//! all scenario threads finished, the worker is idle and no work is
//! pending), `at_end` (every final state: no thread and no work can move,
//! whether at rest, deadlocked or spinning) or `after OP` (every state
//! where some thread has completed an operation of kind OP, e.g.
//! `after remove_path`). The fields are listed in [`FIELDS`] and in
//! `model/README-model.md`, "Properties as data". Errors are one line,
//! `file:line:col: reason`.

use crate::machine::Machine;
use crate::state::*;
use stateright::{Model, Property};
use std::fmt;

/// How many data properties one check can carry (the stateright property
/// table takes plain function pointers: one trampoline per slot).
pub const MAX_DATA_PROPERTIES: usize = 32;
/// Parentheses, `!` and quantifiers nest at most this deep; a property has
/// at most [`MAX_PROPERTY_TOKENS`] tokens. Together they bound the
/// expression tree, so parsing, checking and evaluating it never run out
/// of stack (found by fuzzing: a long enough `!!!...` or `(((...` did).
pub const MAX_NESTING: usize = 64;
pub const MAX_PROPERTY_TOKENS: usize = 2048;

/// A bad properties file: `file:line:col: reason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {reason}")]
pub struct PropsError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub reason: String,
}

/// When a data property's predicate must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    AtRest,
    AtEnd,
    /// After some thread completed an operation of this kind (the trace
    /// `op` name, e.g. `remove_path`).
    After(String),
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Always => f.write_str("always"),
            When::AtRest => f.write_str("at_rest"),
            When::AtEnd => f.write_str("at_end"),
            When::After(op) => write!(f, "after {op}"),
        }
    }
}

/// One declared property.
#[derive(Clone, Debug)]
pub struct DataProperty {
    /// Leaked once when the file is loaded (stateright names are `&'static str`).
    pub name: &'static str,
    pub description: String,
    pub when: When,
    pub expr: Expr,
    /// The declaration's source text (for listings).
    pub source: String,
    /// Where it was declared (`file:line`).
    pub origin: String,
}

/// A set of data properties (possibly from several files).
#[derive(Clone, Debug, Default)]
pub struct PropertySet {
    pub props: Vec<DataProperty>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Int,
    Bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Domain {
    Paths,
    Nodes,
    Threads,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    All,
    Any,
    Count,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Implies,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
}

/// Global (state-wide) fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum G {
    Requeue,
    Pending,
    AtRest,
    Terminal,
    Stuck,
    Runnable,
    Unfinished,
    Iopolicy,
    QFreeze,
    HeadRef,
    HeadBit(u8),
    HeadFreed,
    DiskPresent,
    DiskFreed,
    HeadLock,
    SubsysLock,
    Work(u8),
    Viol(u16),
    Npaths,
    Nnodes,
}

/// Per-path fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PF {
    Bit(u8),
    Life(u8),
    OnList,
    Current,
    SysfsLink,
    Usable,
    OptimizedUsable,
    Disabled,
    Optimized,
    Inflight,
    Ctrl,
    Numa,
    Id,
}

/// Per-thread fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TF {
    Finished,
    Stuck,
    Enabled,
    Worker,
    OpsDone,
    InSrcu,
    Id,
}

/// A typed expression (checked when parsed).
#[derive(Clone, Debug)]
pub enum Expr {
    Int(i32),
    Bool(bool),
    Var(u8),
    Global(G),
    Path(Box<Expr>, PF),
    Thread(Box<Expr>, TF),
    CurrentPath(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Quant(Quant, DomainTag, u8, Box<Expr>),
}

/// The domain a quantifier ranges over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainTag(Domain);

/// Every field name, its type and meaning (the README's table is this).
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("requeue", "int", "bios on the head's requeue list (saturates at 7)"),
    ("pending", "int", "number of queued works not yet started"),
    ("work.requeue / work.partition_scan / work.remove_head", "bool", "that work is queued and not yet started"),
    ("at_rest", "bool", "every scenario thread finished, worker idle, no work pending"),
    ("terminal", "bool", "no thread and no work can move (at rest, deadlocked or spinning)"),
    ("stuck", "int", "threads spinning for ever (a selection loop exceeded its bound)"),
    ("runnable", "int", "threads that can take a step, plus 1 if the idle worker can start a pending work"),
    ("unfinished", "int", "threads (worker included) not finished"),
    ("iopolicy", "int", "0 numa, 1 round-robin, 2 queue-depth"),
    ("q_freeze", "int", "the head queue's mq_freeze_depth"),
    ("head.ref", "int", "head reference count"),
    ("head.disk_live / head.queue_if_no_path / head.gd_added / head.suppress_part_scan / head.cdev_live", "bool", "head flag bits"),
    ("head.freed", "bool", "the head was freed"),
    ("head.disk_present / head.disk_freed", "bool", "the head gendisk is allocated / was freed"),
    ("head.lock_held / subsys.lock_held", "bool", "head->lock / subsys->lock is held"),
    ("viol.use_after_free_path / viol.use_after_free_head / viol.null_disk / viol.junk_pointer / viol.duplicate_link / viol.non_termination / viol.unlinked_returned / viol.disabled_returned / viol.quality", "bool", "an event the interpreter recorded (sticky)"),
    ("npaths / nnodes", "int", "the scenario's path slots / NUMA nodes"),
    ("current_path[N]", "int", "the path in current_path[N] (its id), null (-1) or junk (-2)"),
    ("P.link / P.ready / P.ana_pending / P.removing / P.disk_added / P.on_ctrl / P.has_disk", "bool", "path bits (P: a path variable or path[N])"),
    ("P.unused / P.allocated / P.linked / P.unlinked / P.freed", "bool", "path life"),
    ("P.on_list", "bool", "reachable from the head's dev_list"),
    ("P.current", "bool", "in some current_path[] slot"),
    ("P.sysfs_link", "bool", "its multipath/<path> sysfs link exists"),
    ("P.usable / P.optimized_usable / P.disabled / P.optimized", "bool", "the driver predicates the selectors use (usable: linked, not disabled, optimized or non-optimized)"),
    ("P.inflight / P.ctrl / P.numa / P.id", "int", "requests in flight, controller, NUMA node, path id"),
    ("T.finished / T.stuck / T.enabled / T.worker / T.in_srcu", "bool", "per thread (T: a thread variable or thread[N]; the worker is last)"),
    ("T.ops_done / T.id", "int", "operations completed, thread index"),
];

// ------------------------------------------------------------------ lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    Str(String),
    Sym(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
    /// Byte offset in the text.
    at: usize,
}

const SYMS: &[&str] = &["&&", "||", "->", "==", "!=", "<=", ">=", "(", ")", "[", "]", ".", ":", ";", "!", "<", ">", "+", "-", ","];

fn lex(file: &str, text: &str) -> Result<Vec<Token>, PropsError> {
    let err = |line, col, reason: String| PropsError { file: file.into(), line, col, reason };
    let mut out = Vec::new();
    let (mut line, mut col) = (1usize, 1usize);
    let mut it = text.char_indices().peekable();
    while let Some(&(at, c)) = it.peek() {
        if c == '\n' {
            it.next();
            line += 1;
            col = 1;
            continue;
        }
        if c.is_whitespace() {
            it.next();
            col += 1;
            continue;
        }
        if c == '#' {
            while let Some(&(_, c)) = it.peek() {
                if c == '\n' {
                    break;
                }
                it.next();
            }
            continue;
        }
        let (l0, c0) = (line, col);
        if c.is_ascii_alphabetic() || c == '_' {
            let mut s = String::new();
            while let Some(&(_, c)) = it.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    s.push(c);
                    it.next();
                    col += 1;
                } else {
                    break;
                }
            }
            out.push(Token { tok: Tok::Ident(s), line: l0, col: c0, at });
            continue;
        }
        if c.is_ascii_digit() {
            let mut s = String::new();
            while let Some(&(_, c)) = it.peek() {
                if c.is_ascii_digit() {
                    s.push(c);
                    it.next();
                    col += 1;
                } else {
                    break;
                }
            }
            let v = s.parse::<i64>().ok().filter(|v| *v <= i32::MAX as i64).ok_or_else(|| err(l0, c0, format!("integer {s} is too large")))?;
            out.push(Token { tok: Tok::Int(v), line: l0, col: c0, at });
            continue;
        }
        if c == '"' {
            it.next();
            col += 1;
            let mut s = String::new();
            loop {
                match it.next() {
                    Some((_, '"')) => {
                        col += 1;
                        break;
                    }
                    Some((_, '\n')) | None => return Err(err(l0, c0, "unterminated string (a description is one line)".into())),
                    Some((_, ch)) => {
                        s.push(ch);
                        col += 1;
                    }
                }
            }
            out.push(Token { tok: Tok::Str(s), line: l0, col: c0, at });
            continue;
        }
        let rest = &text[at..];
        match SYMS.iter().find(|s| rest.starts_with(**s)) {
            Some(s) => {
                for _ in 0..s.len() {
                    it.next();
                }
                col += s.len();
                out.push(Token { tok: Tok::Sym(s), line: l0, col: c0, at });
            }
            None => return Err(err(l0, c0, format!("unexpected character {c:?}"))),
        }
    }
    out.push(Token { tok: Tok::Eof, line, col, at: text.len() });
    Ok(out)
}

// ------------------------------------------------------------------ parser

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
    toks: Vec<Token>,
    i: usize,
    /// Bound variables: (name, domain), innermost last.
    scope: Vec<(String, Domain)>,
    /// Operation kinds `after` may name.
    op_names: &'a [&'a str],
    /// Current nesting (see [`MAX_NESTING`]) and the property's first token.
    nesting: usize,
    prop_start: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Int(v) => format!("`{v}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Sym(s) => format!("`{s}`"),
        Tok::Eof => "the end of the file".into(),
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Token {
        &self.toks[self.i]
    }
    fn next(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn err_at(&self, t: &Token, reason: impl Into<String>) -> PropsError {
        PropsError { file: self.file.into(), line: t.line, col: t.col, reason: reason.into() }
    }
    fn is_sym(&self, s: &str) -> bool {
        matches!(&self.peek().tok, Tok::Sym(x) if *x == s)
    }
    fn is_kw(&self, s: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(x) if x == s)
    }
    fn expect_sym(&mut self, s: &str, what: &str) -> Result<Token, PropsError> {
        if self.is_sym(s) {
            return Ok(self.next());
        }
        let t = self.peek().clone();
        Err(self.err_at(&t, format!("expected `{s}` {what}, found {}", describe(&t.tok))))
    }
    fn ident(&mut self, what: &str) -> Result<(String, Token), PropsError> {
        let t = self.next();
        match &t.tok {
            Tok::Ident(s) => Ok((s.clone(), t.clone())),
            other => Err(self.err_at(&t, format!("expected {what}, found {}", describe(other)))),
        }
    }

    fn file(&mut self, builtin: &[&str]) -> Result<Vec<DataProperty>, PropsError> {
        let mut out: Vec<DataProperty> = Vec::new();
        while self.peek().tok != Tok::Eof {
            let kw = self.peek().clone();
            if !self.is_kw("property") {
                return Err(self.err_at(&kw, format!("expected `property`, found {}", describe(&kw.tok))));
            }
            self.next();
            self.prop_start = self.i;
            let (name, nt) = self.ident("a property name")?;
            if builtin.contains(&name.as_str()) {
                return Err(self.err_at(&nt, format!("property `{name}` is a built-in property's name")));
            }
            if out.iter().any(|p| p.name == name) {
                return Err(self.err_at(&nt, format!("property `{name}` is declared twice")));
            }
            let description = match &self.peek().tok {
                Tok::Str(s) => {
                    let s = s.clone();
                    self.next();
                    s
                }
                _ => String::new(),
            };
            let (mode, mt) = self.ident("a mode (always, at_rest, at_end, after OP)")?;
            let when = match mode.as_str() {
                "always" => When::Always,
                "at_rest" => When::AtRest,
                "at_end" => When::AtEnd,
                "after" => {
                    let (op, ot) = self.ident("an operation name after `after`")?;
                    if !self.op_names.contains(&op.as_str()) {
                        return Err(self.err_at(&ot, format!("unknown operation `{op}` (known: {})", self.op_names.join(", "))));
                    }
                    When::After(op)
                }
                other => return Err(self.err_at(&mt, format!("unknown mode `{other}` (known: always, at_rest, at_end, after OP)"))),
            };
            self.expect_sym(":", "after the mode")?;
            let et = self.peek().clone();
            let (expr, ty) = self.expr()?;
            if ty != Ty::Bool {
                return Err(self.err_at(&et, "the predicate is an integer, not a condition (compare it: `... == 0`)"));
            }
            let end = self.expect_sym(";", "at the end of the property")?;
            out.push(DataProperty {
                name: Box::leak(name.into_boxed_str()),
                description,
                when,
                expr,
                source: self.text[kw.at..end.at + 1].to_string(),
                origin: format!("{}:{}", self.file, kw.line),
            });
            if out.len() > MAX_DATA_PROPERTIES {
                return Err(self.err_at(&kw, format!("more than {MAX_DATA_PROPERTIES} properties")));
            }
        }
        Ok(out)
    }

    /// Enters one nesting level around `f`.
    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Result<(Expr, Ty), PropsError>) -> Result<(Expr, Ty), PropsError> {
        if self.nesting >= MAX_NESTING {
            let t = self.peek().clone();
            return Err(self.err_at(&t, format!("expression nested more than {MAX_NESTING} deep")));
        }
        self.nesting += 1;
        let r = f(self);
        self.nesting -= 1;
        r
    }

    /// A loop that lengthens an operator chain checks the property's size.
    fn size_ok(&self) -> Result<(), PropsError> {
        if self.i - self.prop_start > MAX_PROPERTY_TOKENS {
            let t = self.peek().clone();
            return Err(self.err_at(&t, format!("property longer than {MAX_PROPERTY_TOKENS} tokens")));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<(Expr, Ty), PropsError> {
        self.nested(Self::expr_inner)
    }

    fn expr_inner(&mut self) -> Result<(Expr, Ty), PropsError> {
        if self.is_kw("all") || self.is_kw("any") || self.is_kw("count") {
            let (q, _) = self.ident("a quantifier")?;
            let q = match q.as_str() {
                "all" => Quant::All,
                "any" => Quant::Any,
                _ => Quant::Count,
            };
            let (var, vt) = self.ident("a variable name")?;
            if is_reserved(&var) {
                return Err(self.err_at(&vt, format!("`{var}` is a field or keyword, not a variable name")));
            }
            let (kw, kt) = self.ident("`in`")?;
            if kw != "in" {
                return Err(self.err_at(&kt, format!("expected `in`, found `{kw}`")));
            }
            let (dom, dt) = self.ident("paths, nodes or threads")?;
            let d = match dom.as_str() {
                "paths" => Domain::Paths,
                "nodes" => Domain::Nodes,
                "threads" => Domain::Threads,
                other => return Err(self.err_at(&dt, format!("unknown domain `{other}` (known: paths, nodes, threads)"))),
            };
            self.expect_sym(":", "after the quantifier's domain")?;
            if self.scope.len() >= 8 {
                return Err(self.err_at(&vt, "quantifiers nested more than 8 deep"));
            }
            self.scope.push((var, d));
            let slot = (self.scope.len() - 1) as u8;
            let bt = self.peek().clone();
            let (body, ty) = self.expr()?;
            self.scope.pop();
            if ty != Ty::Bool {
                return Err(self.err_at(&bt, "a quantifier's body must be a condition"));
            }
            let rty = if q == Quant::Count { Ty::Int } else { Ty::Bool };
            return Ok((Expr::Quant(q, DomainTag(d), slot, Box::new(body)), rty));
        }
        self.implies()
    }

    fn bool_operand(&self, t: &Token, ty: Ty, op: &str) -> Result<(), PropsError> {
        if ty != Ty::Bool {
            return Err(self.err_at(t, format!("`{op}` needs conditions, this is an integer")));
        }
        Ok(())
    }

    fn implies(&mut self) -> Result<(Expr, Ty), PropsError> {
        let lt = self.peek().clone();
        let (l, lty) = self.or()?;
        if self.is_sym("->") {
            self.next();
            self.bool_operand(&lt, lty, "->")?;
            let rt = self.peek().clone();
            let (r, rty) = self.expr()?;
            self.bool_operand(&rt, rty, "->")?;
            return Ok((Expr::Bin(BinOp::Implies, Box::new(l), Box::new(r)), Ty::Bool));
        }
        Ok((l, lty))
    }

    fn or(&mut self) -> Result<(Expr, Ty), PropsError> {
        let lt = self.peek().clone();
        let (mut l, lty) = self.and()?;
        if !self.is_sym("||") {
            return Ok((l, lty));
        }
        self.bool_operand(&lt, lty, "||")?;
        while self.is_sym("||") {
            self.size_ok()?;
            self.next();
            let rt = self.peek().clone();
            let (r, rty) = if self.is_quant() { self.expr()? } else { self.and()? };
            self.bool_operand(&rt, rty, "||")?;
            l = Expr::Bin(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok((l, Ty::Bool))
    }

    fn and(&mut self) -> Result<(Expr, Ty), PropsError> {
        let lt = self.peek().clone();
        let (mut l, lty) = self.not()?;
        if !self.is_sym("&&") {
            return Ok((l, lty));
        }
        self.bool_operand(&lt, lty, "&&")?;
        while self.is_sym("&&") {
            self.size_ok()?;
            self.next();
            let rt = self.peek().clone();
            let (r, rty) = if self.is_quant() { self.expr()? } else { self.not()? };
            self.bool_operand(&rt, rty, "&&")?;
            l = Expr::Bin(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok((l, Ty::Bool))
    }

    fn is_quant(&self) -> bool {
        self.is_kw("all") || self.is_kw("any") || self.is_kw("count")
    }

    fn not(&mut self) -> Result<(Expr, Ty), PropsError> {
        self.nested(Self::not_inner)
    }

    fn not_inner(&mut self) -> Result<(Expr, Ty), PropsError> {
        if self.is_sym("!") {
            self.next();
            let t = self.peek().clone();
            let (e, ty) = self.not()?;
            self.bool_operand(&t, ty, "!")?;
            return Ok((Expr::Not(Box::new(e)), Ty::Bool));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<(Expr, Ty), PropsError> {
        let lt = self.peek().clone();
        let (l, lty) = self.sum()?;
        let op = match &self.peek().tok {
            Tok::Sym("==") => BinOp::Eq,
            Tok::Sym("!=") => BinOp::Ne,
            Tok::Sym("<") => BinOp::Lt,
            Tok::Sym("<=") => BinOp::Le,
            Tok::Sym(">") => BinOp::Gt,
            Tok::Sym(">=") => BinOp::Ge,
            _ => return Ok((l, lty)),
        };
        let ot = self.next();
        let rt = self.peek().clone();
        let (r, rty) = self.sum()?;
        if lty != rty {
            return Err(self.err_at(&ot, "compares a condition with an integer"));
        }
        if lty == Ty::Bool && !matches!(op, BinOp::Eq | BinOp::Ne) {
            return Err(self.err_at(&ot, "orders conditions (only == and != compare conditions)"));
        }
        if matches!(&self.peek().tok, Tok::Sym("==" | "!=" | "<" | "<=" | ">" | ">=")) {
            let t = self.peek().clone();
            return Err(self.err_at(&t, "comparisons do not chain (use && or parentheses)"));
        }
        let _ = (lt, rt);
        Ok((Expr::Bin(op, Box::new(l), Box::new(r)), Ty::Bool))
    }

    fn sum(&mut self) -> Result<(Expr, Ty), PropsError> {
        let lt = self.peek().clone();
        let (mut l, lty) = self.postfix()?;
        while self.is_sym("+") || self.is_sym("-") {
            self.size_ok()?;
            let ot = self.next();
            if lty != Ty::Int {
                return Err(self.err_at(&lt, "arithmetic on a condition"));
            }
            let rt = self.peek().clone();
            let (r, rty) = self.postfix()?;
            if rty != Ty::Int {
                return Err(self.err_at(&rt, "arithmetic on a condition"));
            }
            let op = if ot.tok == Tok::Sym("+") { BinOp::Add } else { BinOp::Sub };
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
        Ok((l, lty))
    }

    /// An index in brackets: `[EXPR]` (integer).
    fn index(&mut self, what: &str) -> Result<Expr, PropsError> {
        self.expect_sym("[", &format!("after `{what}`"))?;
        let t = self.peek().clone();
        let (e, ty) = self.expr()?;
        if ty != Ty::Int {
            return Err(self.err_at(&t, "an index must be an integer"));
        }
        self.expect_sym("]", "after the index")?;
        Ok(e)
    }

    fn field(&mut self, dom: Domain, of: Expr) -> Result<(Expr, Ty), PropsError> {
        self.expect_sym(".", "and a field name")?;
        let (f, ft) = self.ident("a field name")?;
        match dom {
            Domain::Paths => {
                let (pf, ty) = path_field(&f).ok_or_else(|| {
                    self.err_at(&ft, format!("unknown path field `{f}` (known: {})", PATH_FIELDS.iter().map(|x| x.0).collect::<Vec<_>>().join(", ")))
                })?;
                Ok((Expr::Path(Box::new(of), pf), ty))
            }
            Domain::Threads => {
                let (tf, ty) = thread_field(&f).ok_or_else(|| {
                    self.err_at(&ft, format!("unknown thread field `{f}` (known: {})", THREAD_FIELDS.iter().map(|x| x.0).collect::<Vec<_>>().join(", ")))
                })?;
                Ok((Expr::Thread(Box::new(of), tf), ty))
            }
            Domain::Nodes => Err(self.err_at(&ft, "a node has no fields (use current_path[n])")),
        }
    }

    fn postfix(&mut self) -> Result<(Expr, Ty), PropsError> {
        let t = self.next();
        match &t.tok {
            Tok::Int(v) => Ok((Expr::Int(*v as i32), Ty::Int)),
            Tok::Sym("(") => {
                let r = self.expr()?;
                self.expect_sym(")", "to close `(`")?;
                Ok(r)
            }
            Tok::Sym("-") => {
                let it = self.next();
                match &it.tok {
                    Tok::Int(v) => Ok((Expr::Int(-(*v as i32)), Ty::Int)),
                    other => Err(self.err_at(&it, format!("expected an integer after `-`, found {}", describe(other)))),
                }
            }
            Tok::Ident(name) => {
                let name = name.clone();
                if let Some(pos) = self.scope.iter().rposition(|(v, _)| *v == name) {
                    let dom = self.scope[pos].1;
                    let var = Expr::Var(pos as u8);
                    if self.is_sym(".") {
                        return self.field(dom, var);
                    }
                    return Ok((var, Ty::Int));
                }
                match name.as_str() {
                    "true" => return Ok((Expr::Bool(true), Ty::Bool)),
                    "false" => return Ok((Expr::Bool(false), Ty::Bool)),
                    "null" => return Ok((Expr::Int(-1), Ty::Int)),
                    "junk" => return Ok((Expr::Int(-2), Ty::Int)),
                    "path" => {
                        let i = self.index("path")?;
                        return self.field(Domain::Paths, i);
                    }
                    "thread" => {
                        let i = self.index("thread")?;
                        return self.field(Domain::Threads, i);
                    }
                    "current_path" => {
                        let i = self.index("current_path")?;
                        return Ok((Expr::CurrentPath(Box::new(i)), Ty::Int));
                    }
                    _ => {}
                }
                // Dotted globals: head.x, subsys.x, work.x, viol.x.
                let mut full = name.clone();
                if matches!(name.as_str(), "head" | "subsys" | "work" | "viol") {
                    self.expect_sym(".", &format!("after `{name}`"))?;
                    let (f, _) = self.ident("a field name")?;
                    full = format!("{name}.{f}");
                }
                match global(&full) {
                    Some((g, ty)) => Ok((Expr::Global(g), ty)),
                    None => Err(self.err_at(&t, format!("unknown field `{full}` (model/README-model.md, \"Properties as data\", lists the fields)"))),
                }
            }
            other => Err(self.err_at(&t, format!("expected a value, found {}", describe(other)))),
        }
    }
}

fn is_reserved(s: &str) -> bool {
    matches!(
        s,
        "all"
            | "any"
            | "count"
            | "in"
            | "true"
            | "false"
            | "null"
            | "junk"
            | "path"
            | "thread"
            | "current_path"
            | "head"
            | "subsys"
            | "work"
            | "viol"
            | "property"
    ) || global(s).is_some()
}

const PATH_FIELDS: &[(&str, PF, Ty)] = &[
    ("link", PF::Bit(pbit::LINK), Ty::Bool),
    ("ready", PF::Bit(pbit::READY), Ty::Bool),
    ("ana_pending", PF::Bit(pbit::ANA_PENDING), Ty::Bool),
    ("removing", PF::Bit(pbit::REMOVING), Ty::Bool),
    ("disk_added", PF::Bit(pbit::DISK_ADDED), Ty::Bool),
    ("on_ctrl", PF::Bit(pbit::ON_CTRL), Ty::Bool),
    ("has_disk", PF::Bit(pbit::HAS_DISK), Ty::Bool),
    ("unused", PF::Life(life::UNUSED), Ty::Bool),
    ("allocated", PF::Life(life::ALLOCATED), Ty::Bool),
    ("linked", PF::Life(life::LINKED), Ty::Bool),
    ("unlinked", PF::Life(life::UNLINKED), Ty::Bool),
    ("freed", PF::Life(life::FREED), Ty::Bool),
    ("on_list", PF::OnList, Ty::Bool),
    ("current", PF::Current, Ty::Bool),
    ("sysfs_link", PF::SysfsLink, Ty::Bool),
    ("usable", PF::Usable, Ty::Bool),
    ("optimized_usable", PF::OptimizedUsable, Ty::Bool),
    ("disabled", PF::Disabled, Ty::Bool),
    ("optimized", PF::Optimized, Ty::Bool),
    ("inflight", PF::Inflight, Ty::Int),
    ("ctrl", PF::Ctrl, Ty::Int),
    ("numa", PF::Numa, Ty::Int),
    ("id", PF::Id, Ty::Int),
];

const THREAD_FIELDS: &[(&str, TF, Ty)] = &[
    ("finished", TF::Finished, Ty::Bool),
    ("stuck", TF::Stuck, Ty::Bool),
    ("enabled", TF::Enabled, Ty::Bool),
    ("worker", TF::Worker, Ty::Bool),
    ("in_srcu", TF::InSrcu, Ty::Bool),
    ("ops_done", TF::OpsDone, Ty::Int),
    ("id", TF::Id, Ty::Int),
];

fn path_field(f: &str) -> Option<(PF, Ty)> {
    PATH_FIELDS.iter().find(|x| x.0 == f).map(|x| (x.1, x.2))
}

fn thread_field(f: &str) -> Option<(TF, Ty)> {
    THREAD_FIELDS.iter().find(|x| x.0 == f).map(|x| (x.1, x.2))
}

fn global(name: &str) -> Option<(G, Ty)> {
    use G::*;
    Some(match name {
        "requeue" => (Requeue, Ty::Int),
        "pending" => (Pending, Ty::Int),
        "at_rest" => (AtRest, Ty::Bool),
        "terminal" => (Terminal, Ty::Bool),
        "stuck" => (Stuck, Ty::Int),
        "runnable" => (Runnable, Ty::Int),
        "unfinished" => (Unfinished, Ty::Int),
        "iopolicy" => (Iopolicy, Ty::Int),
        "q_freeze" => (QFreeze, Ty::Int),
        "npaths" => (Npaths, Ty::Int),
        "nnodes" => (Nnodes, Ty::Int),
        "head.ref" => (HeadRef, Ty::Int),
        "head.disk_live" => (HeadBit(hbit::DISK_LIVE), Ty::Bool),
        "head.queue_if_no_path" => (HeadBit(hbit::QUEUE_IF_NO_PATH), Ty::Bool),
        "head.gd_added" => (HeadBit(hbit::GD_ADDED), Ty::Bool),
        "head.suppress_part_scan" => (HeadBit(hbit::SUPPRESS_PART_SCAN), Ty::Bool),
        "head.cdev_live" => (HeadBit(hbit::CDEV_LIVE), Ty::Bool),
        "head.freed" => (HeadFreed, Ty::Bool),
        "head.disk_present" => (DiskPresent, Ty::Bool),
        "head.disk_freed" => (DiskFreed, Ty::Bool),
        "head.lock_held" => (HeadLock, Ty::Bool),
        "subsys.lock_held" => (SubsysLock, Ty::Bool),
        "work.requeue" => (Work(0), Ty::Bool),
        "work.partition_scan" => (Work(1), Ty::Bool),
        "work.remove_head" => (Work(2), Ty::Bool),
        "viol.use_after_free_path" => (Viol(vbit::UAF_PATH), Ty::Bool),
        "viol.use_after_free_head" => (Viol(vbit::UAF_HEAD), Ty::Bool),
        "viol.null_disk" => (Viol(vbit::NULL_DISK), Ty::Bool),
        "viol.junk_pointer" => (Viol(vbit::JUNK), Ty::Bool),
        "viol.duplicate_link" => (Viol(vbit::DUP_LINK), Ty::Bool),
        "viol.non_termination" => (Viol(vbit::NONTERM), Ty::Bool),
        "viol.unlinked_returned" => (Viol(vbit::UNLINKED_RET), Ty::Bool),
        "viol.disabled_returned" => (Viol(vbit::DISABLED_RET), Ty::Bool),
        "viol.quality" => (Viol(vbit::QUALITY), Ty::Bool),
        _ => return None,
    })
}

/// The operation kinds (`op` names of the trace format) `after` accepts.
pub const OP_NAMES: &[&str] = &[
    "submit_bio",
    "find_path",
    "remove_path",
    "ana_update",
    "set_live",
    "remove_disk",
    "failover",
    "complete",
    "iopolicy_store",
    "revalidate",
    "chr_ioctl",
    "forward",
    "release",
    "head_uninit",
    "scsi_block",
    "delete_device",
    "add_sysfs_link",
    "remove_sysfs_link",
    "clear_current_path",
    "clear_paths",
    "synchronize",
    "delayed_removal_secs_store",
    "free_path",
    "set_ready",
    "set_ana_pending",
    "add_path",
    "add_device",
    "set_ana_state",
    "set_ctrl_state",
];

impl PropertySet {
    /// Parse a properties file's text (`file` names it in errors).
    pub fn parse(file: &str, text: &str) -> Result<PropertySet, PropsError> {
        let toks = lex(file, text)?;
        let mut p = Parser { file, text, toks, i: 0, scope: Vec::new(), op_names: OP_NAMES, nesting: 0, prop_start: 0 };
        let props = p.file(&crate::property::names())?;
        if props.is_empty() {
            return Err(PropsError { file: file.into(), line: 1, col: 1, reason: "no property declared".into() });
        }
        Ok(PropertySet { props })
    }

    /// Read and parse a properties file.
    pub fn load(path: &str) -> Result<PropertySet, PropsError> {
        let text = std::fs::read_to_string(path).map_err(|e| PropsError { file: path.into(), line: 1, col: 1, reason: format!("cannot read: {e}") })?;
        Self::parse(path, &text)
    }

    /// Add another set's properties (a name declared twice is an error,
    /// reported at the second declaration).
    pub fn extend(&mut self, other: PropertySet) -> Result<(), PropsError> {
        for p in other.props {
            if self.props.iter().any(|q| q.name == p.name) {
                let (file, line) = p.origin.rsplit_once(':').map(|(f, l)| (f.to_string(), l.parse().unwrap_or(1))).unwrap_or((p.origin.clone(), 1));
                return Err(PropsError { file, line, col: 1, reason: format!("property `{}` is already declared", p.name) });
            }
            if self.props.len() >= MAX_DATA_PROPERTIES {
                return Err(PropsError { file: p.origin.clone(), line: 1, col: 1, reason: format!("more than {MAX_DATA_PROPERTIES} properties") });
            }
            self.props.push(p);
        }
        Ok(())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.props.iter().map(|p| p.name).collect()
    }

    pub fn get(&self, name: &str) -> Option<&DataProperty> {
        self.props.iter().find(|p| p.name == name)
    }
}

// ------------------------------------------------------------------ evaluation

struct Env<'a> {
    m: &'a Machine,
    s: &'a State,
    vars: [i32; 8],
}

fn terminal(m: &Machine, s: &State) -> bool {
    let mut v = Vec::new();
    m.actions(s, &mut v);
    v.is_empty()
}

fn path_of(e: &Env, i: i32) -> Option<usize> {
    (i >= 0 && (i as usize) < e.m.npaths as usize).then_some(i as usize)
}

impl Expr {
    fn int(&self, e: &mut Env) -> i32 {
        let (m, s) = (e.m, e.s);
        match self {
            Expr::Int(v) => *v,
            Expr::Var(k) => e.vars[*k as usize],
            Expr::Global(g) => match g {
                G::Requeue => s.requeue as i32,
                G::Pending => s.pending.count_ones() as i32,
                G::Stuck => s.threads.iter().filter(|t| t.stuck).count() as i32,
                G::Runnable => {
                    let enabled = (0..=m.worker).filter(|&t| m.enabled(s, t)).count() as i32;
                    enabled + (s.threads[m.worker].depth == 0 && s.pending != 0) as i32
                }
                G::Unfinished => (0..=m.worker).filter(|&t| !m.finished(s, t)).count() as i32,
                G::Iopolicy => s.iopolicy as i32,
                G::QFreeze => s.q_freeze as i32,
                G::HeadRef => s.head_ref as i32,
                G::Npaths => m.npaths as i32,
                G::Nnodes => m.nnodes as i32,
                _ => self.truth(e) as i32,
            },
            Expr::Path(i, f) => {
                let ix = i.int(e);
                let Some(p) = path_of(e, ix) else { return 0 };
                let ps = &s.paths[p];
                match f {
                    PF::Inflight => ps.inflight as i32,
                    PF::Ctrl => ps.ctrl as i32,
                    PF::Numa => ps.numa as i32,
                    PF::Id => p as i32,
                    _ => self.truth(e) as i32,
                }
            }
            Expr::Thread(i, f) => {
                let t = i.int(e);
                if t < 0 || t as usize > m.worker {
                    return 0;
                }
                match f {
                    TF::OpsDone => s.threads[t as usize].ops_done as i32,
                    TF::Id => t,
                    _ => self.truth(e) as i32,
                }
            }
            Expr::CurrentPath(n) => {
                let n = n.int(e);
                if n < 0 || n as usize >= m.nnodes as usize {
                    return -1;
                }
                match s.cp[n as usize] {
                    0 => -1,
                    crate::step::JUNK => -2,
                    v => v as i32 - 1,
                }
            }
            Expr::Bin(BinOp::Add, a, b) => a.int(e).saturating_add(b.int(e)),
            Expr::Bin(BinOp::Sub, a, b) => a.int(e).saturating_sub(b.int(e)),
            Expr::Quant(Quant::Count, d, k, body) => {
                let n = domain_len(m, d.0);
                let mut c = 0;
                for i in 0..n {
                    e.vars[*k as usize] = i;
                    c += body.truth(e) as i32;
                }
                c
            }
            _ => self.truth(e) as i32,
        }
    }

    fn truth(&self, e: &mut Env) -> bool {
        let (m, s) = (e.m, e.s);
        match self {
            Expr::Bool(b) => *b,
            Expr::Global(g) => match g {
                G::AtRest => m.at_rest(s),
                G::Terminal => terminal(m, s),
                G::HeadBit(b) => s.hbit(*b),
                G::HeadFreed => s.head_life == life::FREED,
                G::DiskPresent => s.disk == disk::ALLOCATED,
                G::DiskFreed => s.disk == disk::FREED,
                G::HeadLock => s.mutex[0] != 0,
                G::SubsysLock => s.mutex[1] != 0,
                G::Work(w) => s.pending & (1 << w) != 0,
                G::Viol(v) => s.viol & v != 0,
                _ => self.int(e) != 0,
            },
            Expr::Path(i, f) => {
                let ix = i.int(e);
                let Some(p) = path_of(e, ix) else {
                    return false;
                };
                let ps = &s.paths[p];
                match f {
                    PF::Bit(b) => ps.bit(*b),
                    PF::Life(l) => ps.life == *l,
                    PF::OnList => s.list().contains(&(p as u8)),
                    PF::Current => s.cp[..m.nnodes as usize].contains(&(p as u8 + 1)),
                    PF::SysfsLink => s.links & (1 << p) != 0,
                    PF::Usable => m.selectable(s, p),
                    PF::OptimizedUsable => m.optimized_usable(s, p),
                    PF::Disabled => m.is_disabled(s, p),
                    PF::Optimized => m.is_optimized(s, p),
                    _ => self.int(e) != 0,
                }
            }
            Expr::Thread(i, f) => {
                let t = i.int(e);
                if t < 0 || t as usize > m.worker {
                    return false;
                }
                let t = t as usize;
                match f {
                    TF::Finished => m.finished(s, t),
                    TF::Stuck => s.threads[t].stuck,
                    TF::Enabled => m.enabled(s, t),
                    TF::Worker => t == m.worker,
                    TF::InSrcu => s.threads[t].srcu > 0,
                    _ => self.int(e) != 0,
                }
            }
            Expr::Not(a) => !a.truth(e),
            Expr::Bin(op, a, b) => match op {
                BinOp::And => a.truth(e) && b.truth(e),
                BinOp::Or => a.truth(e) || b.truth(e),
                BinOp::Implies => !a.truth(e) || b.truth(e),
                BinOp::Eq | BinOp::Ne if is_bool(a) => (a.truth(e) == b.truth(e)) == (*op == BinOp::Eq),
                BinOp::Eq => a.int(e) == b.int(e),
                BinOp::Ne => a.int(e) != b.int(e),
                BinOp::Lt => a.int(e) < b.int(e),
                BinOp::Le => a.int(e) <= b.int(e),
                BinOp::Gt => a.int(e) > b.int(e),
                BinOp::Ge => a.int(e) >= b.int(e),
                BinOp::Add | BinOp::Sub => self.int(e) != 0,
            },
            Expr::Quant(q, d, k, body) => {
                let n = domain_len(m, d.0);
                match q {
                    Quant::All => (0..n).all(|i| {
                        e.vars[*k as usize] = i;
                        body.truth(e)
                    }),
                    Quant::Any => (0..n).any(|i| {
                        e.vars[*k as usize] = i;
                        body.truth(e)
                    }),
                    Quant::Count => self.int(e) != 0,
                }
            }
            Expr::Int(_) | Expr::Var(_) | Expr::CurrentPath(_) => self.int(e) != 0,
        }
    }
}

/// Is `e` a condition (the parser guarantees both sides of `==` agree)?
fn is_bool(e: &Expr) -> bool {
    match e {
        Expr::Bool(_) | Expr::Not(_) => true,
        Expr::Int(_) | Expr::Var(_) | Expr::CurrentPath(_) => false,
        Expr::Global(g) => global_is_bool(*g),
        Expr::Path(_, f) => !matches!(f, PF::Inflight | PF::Ctrl | PF::Numa | PF::Id),
        Expr::Thread(_, f) => !matches!(f, TF::OpsDone | TF::Id),
        Expr::Bin(op, _, _) => !matches!(op, BinOp::Add | BinOp::Sub),
        Expr::Quant(q, ..) => *q != Quant::Count,
    }
}

fn global_is_bool(g: G) -> bool {
    !matches!(g, G::Requeue | G::Pending | G::Stuck | G::Runnable | G::Unfinished | G::Iopolicy | G::QFreeze | G::HeadRef | G::Npaths | G::Nnodes)
}

fn domain_len(m: &Machine, d: Domain) -> i32 {
    match d {
        Domain::Paths => m.npaths as i32,
        Domain::Nodes => m.nnodes as i32,
        Domain::Threads => m.worker as i32 + 1,
    }
}

impl DataProperty {
    /// Does the property hold in `s`?
    pub fn holds(&self, m: &Machine, s: &State) -> bool {
        let applies = match &self.when {
            When::Always => true,
            When::AtRest => m.at_rest(s),
            When::AtEnd => terminal(m, s),
            When::After(op) => m.threads.iter().enumerate().any(|(t, tp)| tp.ops.iter().take(s.threads[t].ops_done as usize).any(|oc| op_name(&oc.op) == *op)),
        };
        if !applies {
            return true;
        }
        let mut env = Env { m, s, vars: [0; 8] };
        self.expr.truth(&mut env)
    }

    /// The swimlane label of the violating state for "at rest" / "final
    /// state" properties (`None`: the last step's function).
    pub fn state_label(&self) -> Option<&'static str> {
        match self.when {
            When::AtRest => Some("(at rest)"),
            When::AtEnd => Some("(final state)"),
            _ => None,
        }
    }
}

/// The trace `op` name of an operation.
pub fn op_name(op: &mpath_reference::ops::Op) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_default()
}

macro_rules! trampolines {
    ($($i:literal)*) => {
        [$({
            fn f(m: &Machine, s: &State) -> bool {
                m.data_props.props[$i].holds(m, s)
            }
            f as fn(&Machine, &State) -> bool
        }),*]
    };
}

static TRAMPOLINES: [fn(&Machine, &State) -> bool; MAX_DATA_PROPERTIES] =
    trampolines!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);

/// The stateright properties of a machine's data properties.
pub fn properties(m: &Machine) -> Vec<Property<Machine>> {
    m.data_props.props.iter().enumerate().map(|(i, p)| Property::always(p.name, TRAMPOLINES[i])).collect()
}
