//! The properties language's lexer: tokens with their line and column.

use super::PropsError;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Int(i64),
    Str(String),
    Sym(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
    pub(super) col: usize,
    /// Byte offset in the text.
    pub(super) at: usize,
}

const SYMS: &[&str] = &["&&", "||", "->", "==", "!=", "<=", ">=", "(", ")", "[", "]", ".", ":", ";", "!", "<", ">", "+", "-", ","];

pub(super) fn lex(file: &str, text: &str) -> Result<Vec<Token>, PropsError> {
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
