//! A small SQL lexer for the scale-out test: tokens without comments, string literals reduced to a marker,
//! dollar-quoted bodies kept as text, psql meta-commands skipped, statements split at `;`.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword, lower-cased.
    Word(String),
    /// A "quoted" identifier, as written.
    Quoted(String),
    /// A string literal: its text is data, not SQL.
    Str,
    /// A dollar-quoted body (a function's or a DO block's), with its text.
    Body(String),
    Num,
    /// A `$n` parameter.
    Param(u32),
    /// Punctuation or an operator (`(`, `,`, `.`, `=`, `::`, `<>`, ...).
    P(String),
}

impl Tok {
    pub fn is(&self, word: &str) -> bool {
        matches!(self, Tok::Word(w) if w == word)
    }
    pub fn is_p(&self, p: &str) -> bool {
        matches!(self, Tok::P(x) if x == p)
    }
    /// The name an identifier token stands for.
    pub fn ident(&self) -> Option<&str> {
        match self {
            Tok::Word(w) | Tok::Quoted(w) => Some(w),
            _ => None,
        }
    }
}

const OPERATOR_CHARS: &str = "+-*/<>=~!@#%^&|:";

/// The statements of an SQL text, as tokens. A `;` inside a BEGIN ATOMIC body splits it too, which is
/// harmless here: such fragments define no keys.
pub fn statements(sql: &str) -> Vec<Vec<Tok>> {
    let c: Vec<char> = sql.chars().collect();
    let mut out: Vec<Vec<Tok>> = vec![Vec::new()];
    let mut line_start = true;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        let at_line_start = std::mem::replace(&mut line_start, false);
        let cur = out.last_mut().unwrap();
        if (ch == '-' && next == Some('-')) || (ch == '\\' && at_line_start) {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == '\'' || ch == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                assert!(i < c.len(), "unterminated {ch} quote in SQL text");
                if c[i] == ch {
                    if c.get(i + 1) == Some(&ch) {
                        text.push(ch);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                text.push(c[i]);
                i += 1;
            }
            cur.push(if ch == '"' { Tok::Quoted(text) } else { Tok::Str });
        } else if ch == '$' && next.is_some_and(|n| n.is_ascii_digit()) {
            let start = i + 1;
            i = start;
            while i < c.len() && c[i].is_ascii_digit() {
                i += 1;
            }
            cur.push(Tok::Param(c[start..i].iter().collect::<String>().parse().unwrap()));
        } else if ch == '$' {
            let mut j = i + 1;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            assert!(c.get(j) == Some(&'$'), "a lone $ in SQL text");
            let delimiter: String = c[i..=j].iter().collect();
            let rest: String = c[j + 1..].iter().collect();
            let end = rest.find(&delimiter).unwrap_or_else(|| panic!("unterminated {delimiter} body"));
            cur.push(Tok::Body(rest[..end].to_string()));
            i = j + 1 + rest[..end].chars().count() + delimiter.chars().count();
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                i += 1;
            }
            cur.push(Tok::Word(c[start..i].iter().collect::<String>().to_lowercase()));
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                i += 1;
            }
            cur.push(Tok::Num);
        } else if ch == ';' {
            i += 1;
            if !cur.is_empty() {
                out.push(Vec::new());
            }
        } else if OPERATOR_CHARS.contains(ch) {
            let start = i;
            while i < c.len() && OPERATOR_CHARS.contains(c[i]) && !(c[i] == '-' && c.get(i + 1) == Some(&'-')) {
                i += 1;
            }
            cur.push(Tok::P(c[start..i].iter().collect()));
        } else {
            cur.push(Tok::P(ch.to_string()));
            i += 1;
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// The index of the `)` that closes the `(` at `open`.
pub fn close(t: &[Tok], open: usize) -> usize {
    assert!(t[open].is_p("("), "expected ( at token {open}: {:?}", &t[open..]);
    let mut depth = 0;
    for (i, tok) in t.iter().enumerate().skip(open) {
        if tok.is_p("(") || tok.is_p("[") {
            depth += 1;
        } else if tok.is_p(")") || tok.is_p("]") {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    panic!("unbalanced parentheses: {:?}", &t[open..]);
}

/// `t` split at the commas outside parentheses.
pub fn split_commas(t: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, tok) in t.iter().enumerate() {
        if tok.is_p("(") || tok.is_p("[") {
            depth += 1;
        } else if tok.is_p(")") || tok.is_p("]") {
            depth -= 1;
        } else if tok.is_p(",") && depth == 0 {
            parts.push(&t[start..i]);
            start = i + 1;
        }
    }
    parts.push(&t[start..]);
    parts.retain(|p| !p.is_empty());
    parts
}

/// A possibly qualified name at `i` (`schema.name` or `name`), and the index after it.
pub fn qualified(t: &[Tok], i: usize) -> Option<(String, usize)> {
    let first = t.get(i)?.ident()?;
    if t.get(i + 1).is_some_and(|p| p.is_p(".")) {
        let second = t.get(i + 2)?.ident()?;
        return Some((format!("{first}.{second}"), i + 3));
    }
    Some((first.to_string(), i + 1))
}

/// Whether `text` has `phrase` (lower case, words separated by one space) as whole words, case-insensitively.
pub fn has_words(text: &str, phrase: &str) -> bool {
    let words: Vec<String> =
        text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    let want: Vec<&str> = phrase.split(' ').collect();
    words.windows(want.len()).any(|w| w.iter().zip(&want).all(|(a, b)| a == b))
}
