//! JSON arguments. The public SQL functions take jsonb and hand it to the Rust functions as text
//! (`sql/900_functions.sql`), so that a document nested deeper than any spec needs gets a clear error
//! instead of failing inside the jsonb-to-Rust conversion.

use serde_json::Value;

/// Deepest nesting accepted in a JSON argument (a spec needs 4).
pub const MAX_DEPTH: usize = 32;

/// How deeply `text` nests arrays and objects (strings are skipped).
fn depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses a JSON argument given as text (jsonb's output). None for SQL NULL.
pub fn parse(text: Option<&str>) -> Result<Option<Value>, String> {
    parse_with_depth(text, MAX_DEPTH)
}

/// Deepest nesting accepted in a Jira payload (rich-text bodies nest deeply; serde's own limit is 128).
pub const MAX_PAYLOAD_DEPTH: usize = 120;

/// [`parse`] with another depth limit.
pub fn parse_with_depth(text: Option<&str>, max_depth: usize) -> Result<Option<Value>, String> {
    let Some(text) = text else { return Ok(None) };
    let d = depth(text);
    if d > max_depth {
        return Err(format!("the JSON nests {d} levels deep; at most {max_depth} are accepted"));
    }
    serde_json::from_str(text).map(Some).map_err(|e| format!("not valid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert_eq!(depth(r#"{"a": [1, {"b": "[[[["}]}"#), 3);
        assert_eq!(depth(r#""\"[""#), 0);
        assert!(parse(Some(&"[".repeat(40))).unwrap_err().contains("40 levels"));
        assert_eq!(parse(None), Ok(None));
        assert!(parse(Some("{")).unwrap_err().starts_with("not valid JSON"));
        assert_eq!(parse(Some(r#"{"a": 1}"#)).unwrap(), Some(serde_json::json!({"a": 1})));
    }
}
