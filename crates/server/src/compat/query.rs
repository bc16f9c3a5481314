//! Reading one parameter of a query string, for the compatible routes that
//! take their parameters (or a token) from it as their originals did.

/// The decoded value of the first `name` parameter of `query`.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query
        .into_iter()
        .flat_map(|q| url::form_urlencoded::parse(q.as_bytes()))
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
