//! JSON bodies read as the original read them: Flask's `get_json` and
//! marshmallow schemas that refuse unknown fields, with the same messages,
//! so its client shows what it always showed.

use std::collections::BTreeMap;

use axum::body::Bytes;
use serde_json::{Map, Value};

use super::error::DeepEmotionError;

/// What the original answered for a body of `null`, `{}` or `[]`.
const NO_INPUT: &str = "Nenhum dado de entrada fornecido";
const MISSING: &str = "Missing data for required field.";

/// The body as a JSON object: 400 when it is not JSON or is empty, 422
/// (`_schema`) when it is JSON but not an object.
pub fn object(body: &Bytes) -> Result<Map<String, Value>, DeepEmotionError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        DeepEmotionError::bad_request(&format!("O corpo da requisição não é JSON válido: {e}"))
    })?;
    match value {
        Value::Object(map) if !map.is_empty() => Ok(map),
        Value::Null | Value::Object(_) => Err(DeepEmotionError::bad_request(NO_INPUT)),
        Value::Array(items) if items.is_empty() => Err(DeepEmotionError::bad_request(NO_INPUT)),
        _ => Err(DeepEmotionError::invalid(BTreeMap::from([(
            "_schema".to_owned(),
            vec!["Invalid input type.".to_owned()],
        )]))),
    }
}

/// A body checked field by field, each failure kept under its field's
/// name, as a marshmallow schema does.
pub struct Fields {
    body: Map<String, Value>,
    errors: BTreeMap<String, Vec<String>>,
}

impl Fields {
    /// Starts checking `body`, whose fields must be among `known`.
    pub fn new(body: Map<String, Value>, known: &[&str]) -> Self {
        let mut errors = BTreeMap::new();
        for name in body.keys().filter(|name| !known.contains(&name.as_str())) {
            errors.insert(name.clone(), vec!["Unknown field.".to_owned()]);
        }
        Self { body, errors }
    }

    /// A required string of `min` to `max` characters (no upper bound when
    /// `max` is `None`).
    pub fn string(&mut self, name: &str, min: usize, max: Option<usize>) -> Option<String> {
        let text = match self.body.get(name) {
            None | Some(Value::Null) => return self.refuse(name, MISSING),
            Some(Value::String(text)) => text.clone(),
            Some(_) => return self.refuse(name, "Not a valid string."),
        };
        let length = text.chars().count();
        match max {
            Some(max) if length < min || length > max => {
                self.refuse(name, &format!("Length must be between {min} and {max}."))
            }
            None if length < min => {
                self.refuse(name, &format!("Shorter than minimum length {min}."))
            }
            _ => Some(text),
        }
    }

    /// A required e-mail address (at most `max` characters).
    pub fn email(&mut self, name: &str, max: usize) -> Option<String> {
        let text = self.string(name, 0, None)?;
        let plausible = text
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !text.contains(char::is_whitespace)
            && text.chars().count() <= max;
        if plausible {
            Some(text)
        } else {
            self.refuse(name, "Not a valid email address.")
        }
    }

    fn refuse<T>(&mut self, name: &str, message: &str) -> Option<T> {
        self.errors
            .entry(name.to_owned())
            .or_default()
            .push(message.to_owned());
        None
    }

    /// The values, once every field passed; else 422 with every failure.
    pub fn finish<T>(self, values: Option<T>) -> Result<T, DeepEmotionError> {
        match values {
            Some(values) if self.errors.is_empty() => Ok(values),
            _ => Err(DeepEmotionError::invalid(self.errors)),
        }
    }
}

/// A field that the original only required to be there and truthy: a
/// non-empty string, else `None`.
pub fn truthy_string(body: &Map<String, Value>, name: &str) -> Option<String> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str, known: &[&str]) -> Fields {
        Fields::new(object(&Bytes::from(body.to_owned())).unwrap(), known)
    }

    #[test]
    fn empty_and_non_object_bodies_are_refused_as_the_original_did() {
        for empty in ["null", "{}", "[]"] {
            assert!(matches!(
                object(&Bytes::from(empty)),
                Err(DeepEmotionError::Said(status, _)) if status == 400
            ));
        }
        assert!(matches!(
            object(&Bytes::from("[1]")),
            Err(DeepEmotionError::Said(status, body)) if status == 422 && body["_schema"][0] == "Invalid input type."
        ));
        assert!(object(&Bytes::from("{nope")).is_err());
    }

    #[test]
    fn each_field_gets_marshmallows_message() {
        let mut checked = fields(
            r#"{"username": "ab", "email": "nope", "foo": 1}"#,
            &["username", "email", "password"],
        );
        let username = checked.string("username", 3, Some(50));
        let email = checked.email("email", 100);
        let password = checked.string("password", 8, None);
        assert!(username.is_none() && email.is_none() && password.is_none());
        let Err(DeepEmotionError::Said(status, body)) = checked.finish(None::<()>) else {
            panic!("the body passed");
        };
        assert_eq!(status, 422);
        assert_eq!(body["username"][0], "Length must be between 3 and 50.");
        assert_eq!(body["email"][0], "Not a valid email address.");
        assert_eq!(body["password"][0], MISSING);
        assert_eq!(body["foo"][0], "Unknown field.");
        assert!(body["error"].as_str().unwrap().contains("username"));
    }

    #[test]
    fn a_short_password_is_shorter_than_the_minimum() {
        let mut checked = fields(r#"{"password": "short"}"#, &["password"]);
        assert!(checked.string("password", 8, None).is_none());
        let Err(DeepEmotionError::Said(_, body)) = checked.finish(None::<()>) else {
            panic!("the body passed");
        };
        assert_eq!(body["password"][0], "Shorter than minimum length 8.");
    }
}
