//! "Did you mean ...?" hints for misspelt keys, operators and values.
//!
//! RAM key names are case-sensitive and documentation samples contain stray spaces
//! (`"Resource ": "*"`), so the most useful hint says *what kind* of near-miss it is: extra
//! whitespace, wrong case, or a typo.

/// A hint for `found`, which is not one of `expected`. `noun` names what is case-sensitive
/// ("keys", "operator names", "values"). The result starts with `" ("` or `"; "`.
pub(crate) fn near_miss(found: &str, expected: &[&str], noun: &str) -> String {
    match closest(found, expected) {
        Some((candidate, Miss::Whitespace)) => {
            format!(" ({}); did you mean {candidate:?}?", describe_whitespace(found))
        }
        Some((candidate, Miss::Case)) => {
            format!(" ({noun} are case-sensitive); did you mean {candidate:?}?")
        }
        Some((candidate, Miss::Typo)) => format!("; did you mean {candidate:?}?"),
        None => format!("; expected {}", one_of(expected)),
    }
}

/// `"A"`, `"A" or "B"`, `one of "A", "B", "C"`.
pub(crate) fn one_of(expected: &[&str]) -> String {
    match expected {
        [] => "nothing here".to_owned(),
        [one] => format!("{one:?}"),
        [a, b] => format!("{a:?} or {b:?}"),
        many => {
            let quoted: Vec<String> = many.iter().map(|s| format!("{s:?}")).collect();
            format!("one of {}", quoted.join(", "))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss {
    Whitespace,
    Case,
    Typo,
}

/// The expected word `found` most likely meant, and how it was missed.
pub(crate) fn closest<'a>(found: &str, expected: &[&'a str]) -> Option<(&'a str, Miss)> {
    let squeezed: String = found.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed != found {
        if let Some(c) = expected.iter().find(|c| **c == squeezed) {
            return Some((c, Miss::Whitespace));
        }
    }
    if let Some(c) = expected.iter().find(|c| c.eq_ignore_ascii_case(&squeezed)) {
        return Some((c, Miss::Case));
    }
    let lower = squeezed.to_ascii_lowercase();
    let limit = if lower.chars().count() >= 5 { 2 } else { 1 };
    expected
        .iter()
        .map(|c| (c, edit_distance(&lower, &c.to_ascii_lowercase())))
        .filter(|(_, d)| *d <= limit)
        .min_by_key(|(_, d)| *d)
        .map(|(c, _)| (*c, Miss::Typo))
}

/// "note the trailing space", "note the leading space", "note the whitespace inside", ...
pub(crate) fn describe_whitespace(found: &str) -> String {
    let leading = found.len() - found.trim_start().len();
    let trailing = found.len() - found.trim_end().len();
    let inside = found.trim().chars().any(char::is_whitespace);
    let what = |n: usize, place: &str| {
        let all_spaces = found.chars().filter(|c| c.is_whitespace()).all(|c| c == ' ');
        match (n, all_spaces) {
            (1, true) => format!("{place} space"),
            (_, true) => format!("{place} spaces"),
            _ => format!("{place} whitespace"),
        }
    };
    let mut parts = Vec::new();
    if leading > 0 {
        parts.push(what(leading, "leading"));
    }
    if trailing > 0 {
        parts.push(what(trailing, "trailing"));
    }
    if inside {
        parts.push("whitespace inside".to_owned());
    }
    format!("note the {}", parts.join(" and "))
}

/// Levenshtein distance over chars; inputs are short keys, so the quadratic table is fine.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"];

    #[test]
    fn whitespace_case_and_typos() {
        assert_eq!(near_miss("Resource ", KEYS, "keys"), r#" (note the trailing space); did you mean "Resource"?"#);
        assert_eq!(near_miss(" Effect", KEYS, "keys"), r#" (note the leading space); did you mean "Effect"?"#);
        assert_eq!(near_miss("Not Action", KEYS, "keys"), r#" (note the whitespace inside); did you mean "NotAction"?"#);
        assert_eq!(near_miss("resource", KEYS, "keys"), r#" (keys are case-sensitive); did you mean "Resource"?"#);
        assert_eq!(near_miss("Resources", KEYS, "keys"), r#"; did you mean "Resource"?"#);
        assert_eq!(near_miss("Conditon", KEYS, "keys"), r#"; did you mean "Condition"?"#);
        assert!(near_miss("Banana", KEYS, "keys").starts_with("; expected one of \"Sid\""));
        assert_eq!(near_miss("x", &["Allow", "Deny"], "values"), r#"; expected "Allow" or "Deny""#);
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
