//! Wildcard patterns (`*` = any run of characters including none, `?` = exactly one character)
//! as used in `Action`, `Resource` and the `StringLike` operators.
//!
//! Patterns are compiled once, when a policy is parsed, into literal pieces separated by `*`;
//! matching then needs no allocation and no regex engine. Matching works on UTF-8 text:
//! `?` consumes one Unicode scalar value, so OSS object keys in any script behave as users
//! expect. RAM has no escape for `*` or `?`, so they are always wildcards.
//!
//! Case-insensitivity is per literal: actions fold ASCII case everywhere, resources only in their
//! `acs:<service>:` prefix, `StringLike` nowhere.

/// Whether `text` matches the wildcard `pattern` (`*`, `?`), compiled for this one use: the
/// wildcard lists outside policies (OSS CORS origins and headers, referer lists, metadata fault
/// paths) match this way.
/// `ignore_ascii_case` folds ASCII case throughout.
pub fn wildcard_match(pattern: &str, text: &str, ignore_ascii_case: bool) -> bool {
    Glob::new(pattern, if ignore_ascii_case { Case::Insensitive } else { Case::Sensitive }).matches(text)
}

/// One element of a piece: a literal run (compared with or without ASCII case folding) or `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal { text: Box<str>, fold: bool },
    AnyChar,
}

/// A run of tokens with no `*` in it; it always matches a fixed number of characters.
type Piece = Vec<Token>;

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    /// Pattern text as written, for explanations and debugging.
    source: Box<str>,
    /// Pieces between `*`s: `pieces[0]` is anchored at the start; if `starred`, the last piece
    /// is anchored at the end and the ones in between float; without `*` there is one piece
    /// that must cover the whole text.
    pieces: Vec<Piece>,
    starred: bool,
}

/// How a pattern's literals compare against text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// Exact comparison (`StringLike`, resource paths).
    Sensitive,
    /// ASCII case folding everywhere (actions).
    Insensitive,
    /// ASCII case folding for the first `n` bytes of the pattern, exact after (resources).
    InsensitivePrefix(usize),
}

impl Glob {
    pub(crate) fn new(pattern: &str, case: Case) -> Glob {
        let fold_until = match case {
            Case::Sensitive => 0,
            Case::Insensitive => usize::MAX,
            Case::InsensitivePrefix(n) => n,
        };
        let mut pieces: Vec<Piece> = vec![Vec::new()];
        let mut literal = String::new();
        let mut literal_fold = false;
        let flush = |literal: &mut String, fold: bool, piece: &mut Piece| {
            if !literal.is_empty() {
                piece.push(Token::Literal { text: std::mem::take(literal).into_boxed_str(), fold });
            }
        };
        for (at, c) in pattern.char_indices() {
            match c {
                '*' => {
                    let piece = pieces.last_mut().expect("at least one piece");
                    flush(&mut literal, literal_fold, piece);
                    pieces.push(Vec::new());
                }
                '?' => {
                    let piece = pieces.last_mut().expect("at least one piece");
                    flush(&mut literal, literal_fold, piece);
                    piece.push(Token::AnyChar);
                }
                _ => {
                    let fold = at < fold_until;
                    if fold != literal_fold {
                        let piece = pieces.last_mut().expect("at least one piece");
                        flush(&mut literal, literal_fold, piece);
                        literal_fold = fold;
                    }
                    literal.push(c);
                }
            }
        }
        let piece = pieces.last_mut().expect("at least one piece");
        flush(&mut literal, literal_fold, piece);
        let starred = pieces.len() > 1;
        if starred {
            // Empty middle pieces come from `**` and constrain nothing.
            let last = pieces.pop().expect("two or more pieces");
            let first = pieces.remove(0);
            pieces.retain(|p| !p.is_empty());
            pieces.insert(0, first);
            pieces.push(last);
        }
        Glob { source: pattern.into(), pieces, starred }
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }

    /// True if the pattern is `*` (or `**`...): it matches every text.
    pub(crate) fn matches_everything(&self) -> bool {
        self.starred && self.pieces.iter().all(Vec::is_empty)
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        self.matches_with(text, false)
    }

    /// Matches with every literal compared ignoring ASCII case when `fold_all` is set (the other
    /// reading of names RAM compares without case; see `Request::names_ignore_case`).
    pub(crate) fn matches_with(&self, text: &str, fold_all: bool) -> bool {
        if !self.starred {
            return match_forward(&self.pieces[0], text, 0, fold_all) == Some(text.len());
        }
        let (first, rest) = self.pieces.split_first().expect("starred globs have two pieces");
        let (last, middle) = rest.split_last().expect("starred globs have two pieces");
        let Some(mut pos) = match_forward(first, text, 0, fold_all) else {
            return false;
        };
        let Some(tail_start) = match_backward(last, text, text.len(), fold_all) else {
            return false;
        };
        if tail_start < pos {
            return false;
        }
        // Leftmost placement of each floating piece is optimal: a piece always spans the same
        // number of characters, so matching it later can only leave less room for the rest.
        for piece in middle {
            let mut start = pos;
            loop {
                // Jump to the next occurrence of a leading case-sensitive literal instead of
                // trying every position (resource paths are long, their pieces rare).
                if let Some(Token::Literal { text: lit, fold: false }) = piece.first().filter(|_| !fold_all) {
                    match text.get(start..tail_start).and_then(|window| window.find(&**lit)) {
                        Some(offset) => start += offset,
                        None => return false,
                    }
                }
                if let Some(end) = match_forward(piece, text, start, fold_all) {
                    if end > tail_start {
                        return false;
                    }
                    pos = end;
                    break;
                }
                match text[start..].chars().next() {
                    Some(c) if start < tail_start => start += c.len_utf8(),
                    _ => return false,
                }
            }
        }
        true
    }
}

fn literal_eq(text: &[u8], literal: &str, fold: bool) -> bool {
    if fold {
        text.eq_ignore_ascii_case(literal.as_bytes())
    } else {
        text == literal.as_bytes()
    }
}

/// Matches `piece` at byte offset `pos` (a char boundary); returns where the match ends.
fn match_forward(piece: &[Token], text: &str, mut pos: usize, fold_all: bool) -> Option<usize> {
    for token in piece {
        match token {
            Token::Literal { text: lit, fold } => {
                let end = pos.checked_add(lit.len())?;
                if end > text.len() || !literal_eq(&text.as_bytes()[pos..end], lit, *fold || fold_all) {
                    return None;
                }
                pos = end;
            }
            Token::AnyChar => pos += text[pos..].chars().next()?.len_utf8(),
        }
    }
    Some(pos)
}

/// Matches `piece` so that it ends at byte offset `end`; returns where the match starts.
fn match_backward(piece: &[Token], text: &str, mut end: usize, fold_all: bool) -> Option<usize> {
    for token in piece.iter().rev() {
        match token {
            Token::Literal { text: lit, fold } => {
                let start = end.checked_sub(lit.len())?;
                if !literal_eq(&text.as_bytes()[start..end], lit, *fold || fold_all) {
                    return None;
                }
                end = start;
            }
            Token::AnyChar => end -= text[..end].chars().next_back()?.len_utf8(),
        }
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(pattern: &str, text: &str) -> bool {
        Glob::new(pattern, Case::Sensitive).matches(text)
    }

    /// Obviously-correct exponential reference matcher over chars.
    fn reference(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
        }
    }

    #[test]
    fn basics() {
        assert!(m("*", ""));
        assert!(m("*", "anything at all"));
        assert!(m("**", "x"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abcd"));
        assert!(!m("abc", "ab"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a*c", "ac"));
        assert!(m("a*c", "abbbc"));
        assert!(!m("a*c", "abbbcd"));
        assert!(m("*b*", "abc"));
        assert!(!m("*x*", "abc"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*b", "abb"));
        assert!(!m("a*b*b", "ab"));
        assert!(m("*aab", "aaab"));
        assert!(m("oss:Get*", "oss:GetObject"));
        assert!(!m("oss:Get*", "oss:PutObject"));
        assert!(m("?*", "x"));
        assert!(!m("?*", ""));
        assert!(m("*?", "x"));
        assert!(m("a*?*b", "axb"));
        assert!(!m("a*?*b", "ab"));
    }

    #[test]
    fn question_mark_takes_one_unicode_character() {
        assert!(m("照片/?.jpg", "照片/猫.jpg"));
        assert!(!m("照片/?.jpg", "照片/猫猫.jpg"));
        assert!(m("*/??.jpg", "照片/猫猫.jpg"));
        assert!(m("*猫*", "照片/猫.jpg"));
        assert!(m("??", "é猫"));
    }

    #[test]
    fn case_modes() {
        let action = Glob::new("oss:get*", Case::Insensitive);
        assert!(action.matches("OSS:GetObject"));
        let resource = Glob::new("acs:OSS:*:*:Bucket/*", Case::InsensitivePrefix(8));
        assert!(resource.matches("acs:oss:*:123:Bucket/Key"));
        assert!(resource.matches("ACS:oss:cn-hangzhou:123:Bucket/key"));
        assert!(!resource.matches("acs:oss:*:123:bucket/Key"));
        assert!(!Glob::new("abc", Case::Sensitive).matches("ABC"));
    }

    #[test]
    fn matches_everything_only_for_stars() {
        assert!(Glob::new("*", Case::Sensitive).matches_everything());
        assert!(Glob::new("***", Case::Sensitive).matches_everything());
        assert!(!Glob::new("*?", Case::Sensitive).matches_everything());
        assert!(!Glob::new("a*", Case::Sensitive).matches_everything());
    }

    proptest! {
        #[test]
        fn agrees_with_reference(p in "[ab?*]{0,8}", t in "[ab]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(m(&p, &t), reference(&pc, &tc));
        }

        #[test]
        fn agrees_with_reference_on_unicode(p in "[a猫?*]{0,8}", t in "[a猫é]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(m(&p, &t), reference(&pc, &tc));
        }

        #[test]
        fn star_matches_everything(t in ".*") {
            prop_assert!(m("*", &t));
        }

        #[test]
        fn literal_patterns_match_only_themselves(p in "[^*?]{0,12}", t in "[^*?]{0,12}") {
            prop_assert!(m(&p, &p));
            prop_assert_eq!(m(&p, &t), p == t);
        }

        #[test]
        fn wildcarded_text_still_matches(t in "[^*?]{0,16}", mask in proptest::collection::vec(0u8..6, 16)) {
            // Replace some characters by `?` and some by `*` (which may also swallow neighbours).
            let mut pattern = String::new();
            let chars: Vec<char> = t.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                match mask[i % mask.len()] {
                    0 => { pattern.push('?'); i += 1; }
                    1 => { pattern.push('*'); i += 1 + usize::from(mask[(i + 1) % mask.len()] % 3); }
                    2 => { pattern.push('*'); pattern.push(chars[i]); i += 1; }
                    _ => { pattern.push(chars[i]); i += 1; }
                }
            }
            prop_assert!(m(&pattern, &t), "pattern {:?} should match {:?}", pattern, t);
        }

        #[test]
        fn insensitive_patterns_ignore_ascii_case(t in "[a-zA-Z:]{0,16}") {
            prop_assert!(Glob::new(&t.to_ascii_uppercase(), Case::Insensitive).matches(&t.to_ascii_lowercase()));
        }
    }
}
