//! A run's method settings as the request schema holds them: one table per settings group
//! (`scr`, `gradient`, `milp`, `convex`, or a registered method's own), each key in the group's
//! own words. A method reads its groups into its own typed settings ([`Settings::group`]), with
//! its defaults for what is absent, and gives them back resolved for reports
//! ([`Settings::insert`]); errors name the key (`` `scr.lambda` ``).

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Settings groups by name, each a table of keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Settings(BTreeMap<String, Map<String, Value>>);

impl Settings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Group `name` as `G`: the keys given, `G`'s defaults for the others. A key `G` does not
    /// have, or a value of the wrong type, is an error naming `name.key`.
    pub fn group<G: DeserializeOwned>(&self, name: &str) -> Result<G> {
        let table = self.0.get(name).cloned().unwrap_or_default();
        read_group(name, Value::Object(table))
    }

    /// The settings of a method with one group, `name`, set to `group`'s keys.
    pub fn of<G: Serialize>(name: &str, group: &G) -> Self {
        let mut s = Self::new();
        s.insert(name, group)
            .expect("a settings group is a struct of keys, which serialises as a table");
        s
    }

    /// Sets group `name` to `value`'s keys (a struct serialised as a table).
    pub fn insert<G: Serialize>(&mut self, name: &str, value: &G) -> Result<()> {
        match serde_json::to_value(value) {
            Ok(Value::Object(table)) => {
                self.0.insert(name.to_string(), table);
                Ok(())
            }
            Ok(_) => Err(Error::InvalidArgument(format!(
                "the settings of group {name} are not a table"
            ))),
            Err(e) => Err(Error::InvalidArgument(format!(
                "the settings of group {name} cannot be written: {e}"
            ))),
        }
    }

    /// The groups of both (a pipeline's); `other`'s group wins where both have one.
    pub fn merge(mut self, other: Settings) -> Self {
        self.0.extend(other.0);
        self
    }

    /// Sets one key, `group.key`, creating the group.
    pub fn set(&mut self, key: &str, value: Value) -> Result<()> {
        let Some((group, name)) = key.split_once('.') else {
            return Err(Error::setting(key, "is not a key of a settings group"));
        };
        self.0
            .entry(group.to_string())
            .or_default()
            .insert(name.to_string(), value);
        Ok(())
    }

    /// The value of `group.key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let (group, name) = key.split_once('.')?;
        self.0.get(group)?.get(name)
    }

    /// The groups present.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn contains(&self, group: &str) -> bool {
        self.0.contains_key(group)
    }

    /// Keeps only the groups `keep` says yes to.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|name, _| keep(name));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Group `name`'s table (empty if absent).
    pub fn table(&self, name: &str) -> Map<String, Value> {
        self.0.get(name).cloned().unwrap_or_default()
    }

    /// Refuses a group no chosen method reads (`reads` says which are read; `methods` names the
    /// chosen ones for the message), naming the group's first key: it would be ignored.
    pub fn refuse_unread(&self, reads: impl Fn(&str) -> bool, methods: &str) -> Result<()> {
        for (group, table) in &self.0 {
            if !reads(group) {
                let key = table
                    .keys()
                    .next()
                    .map_or(group.clone(), |k| format!("{group}.{k}"));
                return Err(Error::setting(
                    key,
                    format!("is not read by method {methods}: it would be ignored"),
                ));
            }
        }
        Ok(())
    }

    /// Adds group `name` from a table as a request file gives it; refuses anything else.
    pub fn insert_table(&mut self, name: &str, value: Value) -> Result<()> {
        match value {
            Value::Object(table) => {
                self.0.insert(name.to_string(), table);
                Ok(())
            }
            other => Err(Error::setting(
                name,
                format!("is a settings group, a table of keys; got {}", kind(&other)),
            )),
        }
    }
}

/// `value` read as `T`; a missing, unknown or mistyped key is an error naming `name.key` (or
/// `name` for the whole value).
pub fn read_group<T: DeserializeOwned>(name: &str, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde's messages name the field of an unknown or missing key themselves
        // the path of an unknown key ends in it; that of a missing key is its table's
        let with = |field: &str| {
            if path.rsplit('.').next() == Some(field) {
                join(name, &path)
            } else {
                join(name, &join(&path, field))
            }
        };
        let (key, message) = if let Some(field) = quoted_after(&inner, "unknown field ") {
            let expected = inner
                .split_once("expected ")
                .map_or(String::new(), |(_, e)| {
                    format!(" (its settings: {})", alternatives(e))
                });
            (with(&field), format!("is not a setting{expected}"))
        } else if let Some(field) = quoted_after(&inner, "missing field ") {
            (with(&field), "is required".to_string())
        } else {
            (join(name, &path), clean(&inner))
        };
        Error::setting(key, message)
    })
}

/// `a.b`, or whichever is not empty (serde_path_to_error's root path is `.`).
fn join(a: &str, b: &str) -> String {
    let a = a.trim_matches('.');
    let b = b.trim_matches('.');
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}.{b}"),
    }
}

/// The backticked word after `prefix` in serde's message.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.split_once(prefix)?.1;
    let rest = rest.strip_prefix('`')?;
    Some(rest.split('`').next()?.to_string())
}

/// serde's type errors, in words without Rust types: `invalid type: string "a", expected f64`
/// → `takes a number, got the string "a"`.
fn clean(message: &str) -> String {
    // `unknown variant `tanh`, expected `linear` or `relu``
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        if let Some((got, expected)) = rest.split_once(", expected ") {
            return format!(
                "takes {}, got {}",
                alternatives(expected),
                got.replace('`', "")
            );
        }
    }
    let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message.to_string();
    };
    let Some((got, expected)) = rest.split_once(", expected ") else {
        return message.to_string();
    };
    let wanted = match expected {
        "f64" | "f32" => "a number",
        "usize" | "u64" | "u32" | "u8" => "a nonnegative integer",
        "a boolean" => "true or false",
        "a string" => "a string",
        "a sequence" => "a list",
        e if e.starts_with("struct") || e.starts_with("a map") => "a table",
        e => e,
    };
    format!("takes {wanted}, got {}", got.replace('`', ""))
}

/// serde's list of expected values in words: "one of `a`, `b`, `c`" → "a, b or c".
fn alternatives(expected: &str) -> String {
    let words: Vec<String> = expected
        .trim_start_matches("one of ")
        .split(", ")
        .map(|w| w.replace('`', ""))
        .collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

/// A JSON value's kind, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Toy {
        rate: f64,
        steps: usize,
        names: Vec<String>,
    }

    impl Default for Toy {
        fn default() -> Self {
            Self {
                rate: 0.5,
                steps: 3,
                names: vec![],
            }
        }
    }

    #[test]
    fn groups_take_their_defaults_and_errors_name_the_key() {
        let mut s = Settings::new();
        assert_eq!(s.group::<Toy>("toy").unwrap(), Toy::default());
        s.set("toy.steps", 7.into()).unwrap();
        let t: Toy = s.group("toy").unwrap();
        assert_eq!((t.rate, t.steps), (0.5, 7));
        s.set("toy.stepz", 7.into()).unwrap();
        let e = s.group::<Toy>("toy").unwrap_err().to_string();
        assert!(e.starts_with("`toy.stepz` is not a setting"), "{e}");
        let mut s = Settings::new();
        s.set("toy.rate", "fast".into()).unwrap();
        let e = s.group::<Toy>("toy").unwrap_err().to_string();
        assert_eq!(e, "`toy.rate` takes a number, got string \"fast\"");
        let mut s = Settings::new();
        s.set("toy.steps", (-2).into()).unwrap();
        let e = s.group::<Toy>("toy").unwrap_err().to_string();
        assert_eq!(e, "`toy.steps` takes a nonnegative integer, got integer -2");
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Shade {
            Light,
            Dark,
        }
        let e = read_group::<Shade>("shade", "grey".into()).unwrap_err();
        assert_eq!(e.to_string(), "`shade` takes light or dark, got grey");
        // resolved settings go back in and read the same
        let mut s = Settings::new();
        s.insert("toy", &t).unwrap();
        assert_eq!(s.group::<Toy>("toy").unwrap(), t);
        assert!(s.set("nogroup", 1.into()).is_err());
    }
}
