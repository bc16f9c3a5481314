//! A form generated from a pipeline's JSON schema: one input per top-level
//! property (a number box, a checkbox, a choice, a text box, or JSON text
//! for lists and objects), with its default, bounds and help, and the
//! server's message next to it. Each input is named as the server names
//! the field in its errors (`params.count`), so a 422 lands by its input.

use std::collections::HashMap;

use maud::{html, Markup};
use serde_json::{Map, Value};

use super::form::Fields;

/// What kind of input a property gets.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Integer,
    Number,
    Boolean,
    /// One of these values.
    Choice(Vec<Value>),
    Text,
    /// Lists and objects, typed as JSON.
    Json,
}

/// One property of the schema.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    kind: Kind,
    description: Option<String>,
    default: Option<Value>,
    minimum: Option<f64>,
    maximum: Option<f64>,
}

impl Field {
    /// The form's name for it, and the server's in its errors.
    pub fn input_name(&self) -> String {
        format!("params.{}", self.name)
    }

    fn id(&self) -> String {
        format!("param-{}", self.name)
    }
}

/// The fields of an object schema's properties, in the schema's order.
pub fn fields(schema: &Value) -> Vec<Field> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| Field {
            name: name.clone(),
            kind: kind_of(property),
            description: property
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            default: property.get("default").cloned(),
            minimum: property
                .get("minimum")
                .or_else(|| property.get("exclusiveMinimum"))
                .and_then(Value::as_f64),
            maximum: property
                .get("maximum")
                .or_else(|| property.get("exclusiveMaximum"))
                .and_then(Value::as_f64),
        })
        .collect()
}

fn kind_of(property: &Value) -> Kind {
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        return Kind::Choice(values.clone());
    }
    // `"type": ["integer", "null"]` is an optional integer.
    let named = match property.get("type") {
        Some(Value::String(name)) => Some(name.as_str()),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .find(|n| *n != "null"),
        _ => None,
    };
    match named {
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        Some("string") => Kind::Text,
        _ => Kind::Json,
    }
}

/// The inputs of `fields`, filled with `values` (what was posted, by input
/// name) or the defaults, each with its error from `errors` (by input name).
pub fn inputs(
    fields: &[Field],
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> Markup {
    html! {
        @for field in fields {
            (input(field, values.get(&field.input_name()), errors.get(&field.input_name())))
        }
    }
}

fn input(field: &Field, posted: Option<&String>, error: Option<&String>) -> Markup {
    let id = field.id();
    let name = field.input_name();
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-error");
    let described_by = [
        field.description.as_ref().map(|_| help_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let described_by = (!described_by.is_empty()).then_some(described_by);
    let invalid = error.map(|_| "true");
    let default_text = field.default.as_ref().map(value_text);
    let value = posted
        .cloned()
        .or_else(|| default_text.clone())
        .unwrap_or_default();
    let control = match &field.kind {
        Kind::Boolean => html! {
            input type="hidden" name=(name) value="false";
            input #(id) type="checkbox" name=(name) value="true" checked[value == "true"]
                aria-invalid=[invalid] aria-describedby=[described_by.as_deref()];
        },
        Kind::Choice(options) => html! {
            select #(id) name=(name) aria-invalid=[invalid] aria-describedby=[described_by.as_deref()] {
                @if field.default.is_none() {
                    option value="" { "(none)" }
                }
                @for option in options {
                    @let text = value_text(option);
                    option value=(text) selected[text == value] { (text) }
                }
            }
        },
        Kind::Integer | Kind::Number => html! {
            input #(id) type="number" name=(name) value=(value)
                step=(if field.kind == Kind::Integer { "1" } else { "any" })
                min=[field.minimum] max=[field.maximum] inputmode="decimal"
                aria-invalid=[invalid] aria-describedby=[described_by.as_deref()];
        },
        Kind::Text => html! {
            input #(id) type="text" name=(name) value=(value)
                aria-invalid=[invalid] aria-describedby=[described_by.as_deref()];
        },
        Kind::Json => html! {
            textarea #(id) name=(name) rows="4" spellcheck="false"
                aria-invalid=[invalid] aria-describedby=[described_by.as_deref()] { (value) }
        },
    };
    html! {
        div.field.check[field.kind == Kind::Boolean] {
            @if field.kind == Kind::Boolean {
                (control)
                label for=(id) { (field.name) }
            } @else {
                label for=(id) { (field.name) }
                (control)
            }
            @if let Some(description) = &field.description {
                p.help id=(help_id) { (description) }
            }
            @if let Some(message) = error {
                p.field-error id=(error_id) { (message) }
            }
        }
    }
}

/// A value as an input shows it: strings bare, anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The parameters the posted form gives: each filled input as its
/// schema's type (empty inputs are left out, so the pipeline's default
/// applies). A value that is not of its type is an error by input name.
pub fn params(fields: &[Field], form: &Fields) -> Result<Value, HashMap<String, String>> {
    let mut params = Map::new();
    let mut errors = HashMap::new();
    for field in fields {
        let Some(text) = form
            .get(&field.input_name())
            .filter(|text| !text.is_empty())
        else {
            continue;
        };
        match typed(&field.kind, text) {
            Ok(value) => {
                params.insert(field.name.clone(), value);
            }
            Err(message) => {
                errors.insert(field.input_name(), message);
            }
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(params))
    } else {
        Err(errors)
    }
}

fn typed(kind: &Kind, text: &str) -> Result<Value, String> {
    match kind {
        Kind::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "must be a whole number".to_owned()),
        Kind::Number => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::from)
            .ok_or_else(|| "must be a number".to_owned()),
        Kind::Boolean => Ok(Value::Bool(text == "true")),
        Kind::Choice(options) => options
            .iter()
            .find(|option| value_text(option) == text)
            .cloned()
            .ok_or_else(|| "is not one of the choices".to_owned()),
        Kind::Text => Ok(Value::String(text.to_owned())),
        Kind::Json => serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        )
    }

    #[test]
    fn posted_text_becomes_parameters_of_the_schemas_types() {
        let schema = json!({"type": "object", "properties": {
            "count": {"type": "integer"}, "rate": {"type": ["number", "null"]},
            "format": {"enum": ["jpg", "png"]}, "flip": {"type": "boolean", "default": true},
            "joints": {"type": "array"}, "note": {"type": "string"}}});
        let fields = fields(&schema);
        let posted = form(&[
            ("params.count", "12"),
            ("params.rate", "2.5"),
            ("params.format", "png"),
            ("params.flip", "false"),
            ("params.joints", "[\"knee\"]"),
            ("params.note", ""),
        ]);
        assert_eq!(
            params(&fields, &posted).unwrap(),
            json!({"count": 12, "rate": 2.5, "format": "png", "flip": false, "joints": ["knee"]})
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error_by_its_input() {
        let schema = json!({"properties": {"count": {"type": "integer"}, "x": {"type": "object"}}});
        let errors = params(
            &fields(&schema),
            &form(&[("params.count", "1.5"), ("params.x", "{")]),
        )
        .unwrap_err();
        assert_eq!(errors["params.count"], "must be a whole number");
        assert!(errors["params.x"].starts_with("is not valid JSON"));
    }

    #[test]
    fn a_checked_box_wins_over_its_hidden_default() {
        let schema = json!({"properties": {"flip": {"type": "boolean"}}});
        let posted = form(&[("params.flip", "false"), ("params.flip", "true")]);
        assert_eq!(
            params(&fields(&schema), &posted).unwrap(),
            json!({"flip": true})
        );
    }
}
