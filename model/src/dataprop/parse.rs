//! The properties language's parser: declarations, typed expressions,
//! the field tables; errors located `file:line:col`.

use super::lex::{lex, Tok, Token};
use super::*;
use crate::state::*;

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
    ("unused", PF::Life(Life::Unused), Ty::Bool),
    ("allocated", PF::Life(Life::Allocated), Ty::Bool),
    ("linked", PF::Life(Life::Linked), Ty::Bool),
    ("unlinked", PF::Life(Life::Unlinked), Ty::Bool),
    ("freed", PF::Life(Life::Freed), Ty::Bool),
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
}
