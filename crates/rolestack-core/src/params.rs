//! The decoded parameters of one API call (query string and form body merged), with the accessors
//! that produce the service's own errors for missing or malformed values.

use std::collections::BTreeMap;

use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    pub fn new(map: BTreeMap<String, String>) -> Self {
        Params(map)
    }

    pub fn from_pairs<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(pairs: I) -> Self {
        Params(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter that may be absent; an empty value counts as absent, as in the real service.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.optional(name).ok_or_else(|| Error::MissingParameter(name.to_string()))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(Error::invalid(
                format!("InvalidParameter.{name}"),
                format!("The parameter \"{name}\" must be true or false, got \"{v}\"."),
            )),
        }
    }

    /// An integer parameter within `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
        let Some(v) = self.optional(name) else { return Ok(None) };
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Error::invalid(
                format!("InvalidParameter.{name}"),
                format!("The parameter \"{name}\" must be an integer from {min} to {max}, got \"{v}\"."),
            )),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }
}
