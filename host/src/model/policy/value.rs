//! How one limit's value is read, from `--limit` (`64M`, `none`) or from a policy file (a
//! number, a size string or `null`), and the JSON schema of each kind of value. Shared by
//! every limit, so that the command line and the file accept and refuse the same values.

use super::PolicyError;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

pub(super) const NOT_A_NUMBER: &str = "expected a number, optionally with K, M, G or T";
pub(super) const CANNOT_LIFT: &str =
    "this limit cannot be lifted (only optional limits take none); give a number";

/// The type of one limit: how a number of bytes (or items) and "unlimited" become it.
pub(super) trait LimitValue: Sized {
    /// Name of its schema.
    const SCHEMA_NAME: &'static str;
    /// From a number.
    fn from_count(n: u64) -> Result<Self, &'static str>;
    /// The unlimited value, if the limit can be lifted.
    fn unlimited() -> Option<Self>;
    /// Its JSON schema in a policy file.
    fn schema() -> Schema;
}

/// `^digits[unit]$`, as [`parse_size`] reads it.
const SIZE_PATTERN: &str = "^[0-9_]+([KkMmGgTt]([Ii][Bb])?)?$";

impl LimitValue for u64 {
    const SCHEMA_NAME: &'static str = "Size";
    fn from_count(n: u64) -> Result<Self, &'static str> {
        Ok(n)
    }
    fn unlimited() -> Option<Self> {
        None
    }
    fn schema() -> Schema {
        json_schema!({ "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": SIZE_PATTERN },
        ] })
    }
}

impl LimitValue for u32 {
    const SCHEMA_NAME: &'static str = "Count";
    fn from_count(n: u64) -> Result<Self, &'static str> {
        u32::try_from(n).map_err(|_| "too large")
    }
    fn unlimited() -> Option<Self> {
        None
    }
    fn schema() -> Schema {
        json_schema!({ "anyOf": [
            { "type": "integer", "minimum": 0, "maximum": u32::MAX },
            { "type": "string", "pattern": SIZE_PATTERN },
        ] })
    }
}

impl LimitValue for Option<u64> {
    const SCHEMA_NAME: &'static str = "OptionalSize";
    fn from_count(n: u64) -> Result<Self, &'static str> {
        Ok(Some(n))
    }
    fn unlimited() -> Option<Self> {
        Some(None)
    }
    fn schema() -> Schema {
        json_schema!({ "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": SIZE_PATTERN },
            { "type": "null" },
        ] })
    }
}

/// A `--limit` value: `none` or `unlimited` for an optional limit, else a size.
pub(super) fn parse_limit<T: LimitValue>(value: &str) -> Result<T, &'static str> {
    if matches!(value, "none" | "unlimited") {
        return T::unlimited().ok_or(CANNOT_LIFT);
    }
    T::from_count(parse_size(value).ok_or(NOT_A_NUMBER)?)
}

/// A limit of type `T` a policy file may set (`None`: it keeps the extended profile's value).
#[derive(Debug)]
pub(super) struct Patch<T>(pub(super) Option<T>);

impl<T> Default for Patch<T> {
    fn default() -> Self {
        Patch(None)
    }
}

impl<T: LimitValue> JsonSchema for Patch<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::SCHEMA_NAME.into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        T::schema()
    }
}

/// Reads one limit of a policy file: a number, a size string or `null`.
pub(super) struct LimitSeed<T> {
    key: &'static str,
    value: PhantomData<T>,
}

impl<T> LimitSeed<T> {
    pub(super) fn new(key: &'static str) -> Self {
        LimitSeed {
            key,
            value: PhantomData,
        }
    }

    fn bad<E: de::Error>(&self, value: impl fmt::Display, why: &str) -> E {
        E::custom(PolicyError::Value {
            key: self.key.to_owned(),
            value: value.to_string(),
            why: why.to_owned(),
        })
    }
}

impl<'de, T: LimitValue> DeserializeSeed<'de> for LimitSeed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: LimitValue> Visitor<'de> for LimitSeed<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "limit {}: a number, a size like \"64M\", or null for unlimited",
            self.key
        )
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        T::from_count(n).map_err(|why| self.bad(n, why))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        match u64::try_from(n) {
            Ok(n) => self.visit_u64(n),
            Err(_) => Err(self.bad(n, NOT_A_NUMBER)),
        }
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        parse_limit(text).map_err(|why| self.bad(text, why))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        T::unlimited().ok_or_else(|| self.bad("null", CANNOT_LIFT))
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.visit_unit()
    }
}

/// `64M`, `1G`, `4096`, `10_000` (binary units: `K` is `KiB`, not the SI kilo that
/// `bytesize`'s own parser reads, and an overflow is an error rather than saturating).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.replace('_', "");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let factor = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" | "KIB" => bytesize::KIB,
        "M" | "MIB" => bytesize::MIB,
        "G" | "GIB" => bytesize::GIB,
        "T" | "TIB" => bytesize::TIB,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(factor)
}
