//! `--param key=value` pairs as a JSON object: values that read as JSON
//! (numbers, booleans, objects) keep their type, anything else is a string.

use anyhow::bail;
use serde_json::{Map, Value};

pub fn parse_params(pairs: &[String]) -> anyhow::Result<Value> {
    let mut params = Map::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--param {pair:?} must look like key=value");
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        params.insert(key.trim().to_owned(), value);
    }
    Ok(Value::Object(params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_types_and_falls_back_to_strings() {
        let pairs = [
            "interval_s=2".into(),
            "format=png".into(),
            "fast=true".into(),
        ];
        assert_eq!(
            parse_params(&pairs).unwrap(),
            json!({"interval_s": 2, "format": "png", "fast": true})
        );
        assert!(parse_params(&["nonsense".into()]).is_err());
    }
}
