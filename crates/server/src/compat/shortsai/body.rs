//! Reading the fields of a JSON body as zod did: a field of the wrong type
//! is a 400 `Validation Error` naming it.

use serde_json::{Map, Value};

use super::error::ShortsError;

/// A JSON object body's fields.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The fields of `body`; 400 when it is not an object.
    pub fn of(body: &'a Value) -> Result<Self, ShortsError> {
        body.as_object()
            .map(Self)
            .ok_or_else(|| ShortsError::invalid("_root", "Expected object"))
    }

    /// Whether the body has field `name` (null counts as absent).
    pub fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| !v.is_null())
    }

    /// A text field, when present.
    pub fn text(&self, name: &str) -> Result<Option<String>, ShortsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(expected(name, "string", other)),
        }
    }

    /// A text field that must be there and not blank.
    pub fn required_text(&self, name: &str) -> Result<String, ShortsError> {
        self.text(name)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ShortsError::invalid(name, "Required"))
    }

    /// A number field (a number written as a string too, as Prisma's
    /// decimals come back), when present.
    pub fn number(&self, name: &str) -> Result<Option<f64>, ShortsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or_else(|| ShortsError::invalid(name, "Expected number")),
            Some(other) => Err(expected(name, "number", other)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ShortsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(expected(name, "boolean", other)),
        }
    }

    /// A field of any JSON value, when present.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A text field whose value must be one of `allowed`, when present.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ShortsError> {
        match self.text(name)? {
            Some(value) if !allowed.contains(&value.as_str()) => Err(ShortsError::invalid(
                name,
                &format!(
                    "Invalid enum value. Expected {}, received '{value}'",
                    allowed
                        .iter()
                        .map(|a| format!("'{a}'"))
                        .collect::<Vec<_>>()
                        .join(" | ")
                ),
            )),
            other => Ok(other),
        }
    }
}

/// zod's words for a field of the wrong type.
fn expected(name: &str, wanted: &str, got: &Value) -> ShortsError {
    let received = match got {
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    };
    ShortsError::invalid(name, &format!("Expected {wanted}, received {received}"))
}
