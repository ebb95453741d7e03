//! A JSON tree that keeps every object entry, in order, including duplicates.
//!
//! `serde_json::Value` silently keeps only one of two equal keys. For an authorization document
//! that is dangerous (`{"Effect":"Deny","Effect":"Allow"}` would quietly become an Allow), so
//! the parser reads into this tree instead and the validators reject duplicates with a location.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Location, PolicyError};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A short description for "found ..." in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Json::Null => "null".to_owned(),
            Json::Bool(b) => format!("a boolean ({b})"),
            Json::Number(n) => format!("a number ({n})"),
            Json::String(s) => format!("a string ({s:?})"),
            Json::Array(items) if items.is_empty() => "an empty list".to_owned(),
            Json::Array(_) => "a list".to_owned(),
            Json::Object(_) => "an object".to_owned(),
        }
    }

    /// The value rendered back as compact JSON, for "invalid value ..." messages.
    pub(crate) fn render(&self) -> String {
        match self {
            Json::Null => "null".to_owned(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.to_string(),
            Json::String(s) => serde_json::Value::String(s.clone()).to_string(),
            Json::Array(_) => "[...]".to_owned(),
            Json::Object(_) => "{...}".to_owned(),
        }
    }
}

/// Reads a whole document; JSON syntax errors become [`PolicyError::Syntax`] with a hint.
pub(crate) fn parse(text: &str) -> Result<Json, PolicyError> {
    serde_json::from_str::<Json>(text).map_err(|e| {
        let message = e.to_string();
        let hint = syntax_hint(text, &message);
        PolicyError::Syntax { line: e.line(), column: e.column(), message, hint }
    })
}

fn syntax_hint(text: &str, message: &str) -> String {
    if text.trim().is_empty() {
        "; the document is empty".to_owned()
    } else if text.starts_with('\u{feff}') {
        "; remove the byte-order mark (U+FEFF) at the start of the document".to_owned()
    } else if message.contains("invalid escape") {
        "; JSON strings allow only the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX \
         (documentation samples sometimes show Markdown escapes such as \\[ that must be removed)"
            .to_owned()
    } else if message.contains("trailing comma") {
        "; JSON does not allow a comma after the last element of a list or object".to_owned()
    } else if message.contains("EOF while parsing") {
        "; the document ends early: check for a missing closing } or ]".to_owned()
    } else if message.contains("trailing characters") {
        "; the document must be a single JSON object: there is text after its closing }".to_owned()
    } else if message.contains("key must be a string") {
        "; object keys must be in double quotes, and a key is needed before each value".to_owned()
    } else if message.contains("expected `:`") || message.contains("expected `,` or `}`") {
        "; check the punctuation near that position (a missing comma, colon, or \"Key\": before a value)".to_owned()
    } else {
        String::new()
    }
}

/// Rejects duplicate keys in an object. `fold_case` treats keys differing only in ASCII case
/// as the same key (condition keys are case-insensitive, so `acs:SourceIp` twice is ambiguous).
pub(crate) fn reject_duplicates(entries: &[(String, Json)], location: &Location, fold_case: bool) -> Result<(), PolicyError> {
    for (i, (key, _)) in entries.iter().enumerate() {
        let earlier = &entries[..i];
        let dup = earlier.iter().any(|(k, _)| if fold_case { k.eq_ignore_ascii_case(key) } else { k == key });
        if dup {
            return Err(PolicyError::DuplicateKey { location: location.clone(), key: key.clone() });
        }
    }
    Ok(())
}

/// Refuses a document in which an object, at any depth, names one key twice — for documents
/// read with a JSON library that keeps only one of two equal keys (a bucket policy's own reading
/// of its `Principal`s), before that reading silently drops the other.
pub fn reject_duplicate_keys(text: &str) -> Result<(), PolicyError> {
    fn walk(value: &Json, location: &Location) -> Result<(), PolicyError> {
        match value {
            Json::Object(entries) => {
                reject_duplicates(entries, location, false)?;
                entries.iter().try_for_each(|(key, v)| walk(v, &location.key(key)))
            }
            Json::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| walk(v, &location.index(i))),
            _ => Ok(()),
        }
    }
    walk(&parse(text)?, &Location::root())
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v).map(Json::Number).ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            entries.push((key, value));
        }
        Ok(Json::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicate_keys_in_order() {
        let json = parse(r#"{"a":1,"b":[true,null],"a":"x"}"#).unwrap();
        let Json::Object(entries) = json else { panic!("not an object") };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        let err = reject_duplicates(&entries, &Location::root(), false).unwrap_err();
        assert_eq!(err.to_string(), r#"policy document: key "a" appears more than once; each key may appear only once"#);
    }

    #[test]
    fn syntax_errors_carry_position_and_hint() {
        let err = parse("{\"Action\": \"ecs: \\[x\\]\"}").unwrap_err();
        let PolicyError::Syntax { line, column, hint, .. } = &err else { panic!("{err:?}") };
        assert_eq!(*line, 1);
        assert!(*column > 10);
        assert!(hint.contains("Markdown"), "{hint}");
        assert!(parse("").unwrap_err().to_string().contains("empty"));
        assert!(parse("{\"a\": [1,]}").unwrap_err().to_string().contains("comma"));
        assert!(parse("{\"a\": 1").unwrap_err().to_string().contains("missing closing"));
        assert!(parse("{} x").unwrap_err().to_string().contains("after its closing"));
    }
}
