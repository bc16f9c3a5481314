//! Checking a job's parameters against its pipeline's JSON schema, so bad
//! input is refused at submission with one message per bad field.

use serde::Serialize;
use serde_json::Value;

/// One thing wrong with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A pipeline's parameter schema, compiled once when the pipeline is
/// registered (compiling it costs more than a whole submission otherwise).
pub struct ParamsChecker {
    validator: Result<jsonschema::Validator, String>,
}

impl ParamsChecker {
    pub fn new(schema: &Value) -> Self {
        Self {
            validator: jsonschema::validator_for(schema).map_err(|e| e.to_string()),
        }
    }

    /// Checks `params`; an empty list means they are fine.
    pub fn check(&self, params: &Value) -> Vec<FieldError> {
        match &self.validator {
            Ok(validator) => field_errors(validator, params),
            Err(e) => vec![FieldError::new("params", format!("schema error: {e}"))],
        }
    }
}

/// `params` with every whole number written as a float (`20.0`) made an
/// integer. JSON Schema counts `20.0` as an integer, serde's integer fields
/// do not: the job keeps the form both read alike.
pub fn whole_numbers_as_integers(params: Value) -> Value {
    match params {
        Value::Number(number) => match number.as_f64() {
            Some(float)
                if !number.is_i64()
                    && !number.is_u64()
                    && float.fract() == 0.0
                    && float.abs() < 9.0e15 =>
            {
                Value::from(float as i64)
            }
            _ => Value::Number(number),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(whole_numbers_as_integers).collect())
        }
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| (key, whole_numbers_as_integers(value)))
                .collect(),
        ),
        other => other,
    }
}

fn field_errors(validator: &jsonschema::Validator, params: &Value) -> Vec<FieldError> {
    validator
        .iter_errors(params)
        .map(|error| {
            let path = error.instance_path.to_string();
            let field = path.trim_start_matches('/').replace('/', ".");
            let field = if field.is_empty() {
                "params".to_owned()
            } else {
                format!("params.{field}")
            };
            FieldError::new(field, error.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_bad_field() {
        let schema = json!({
            "type": "object",
            "properties": {
                "seconds": {"type": "number", "minimum": 0},
                "name": {"type": "string"}
            },
            "additionalProperties": false
        });
        let checker = ParamsChecker::new(&schema);
        let errors = checker.check(&json!({"seconds": -1, "name": 3}));
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields.len(), 2, "{errors:?}");
        assert!(fields.contains(&"params.seconds"));
        assert!(fields.contains(&"params.name"));
        assert!(checker.check(&json!({"seconds": 2})).is_empty());
    }

    #[test]
    fn whole_floats_become_integers() {
        let params = json!({"fps": 20.0, "gain": 0.5, "scenes": [{"duration_s": 3.0}], "n": 7});
        assert_eq!(
            whole_numbers_as_integers(params),
            json!({"fps": 20, "gain": 0.5, "scenes": [{"duration_s": 3}], "n": 7})
        );
    }
}
