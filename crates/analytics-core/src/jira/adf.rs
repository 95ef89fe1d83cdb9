//! Atlassian Document Format (API v3 descriptions and comment bodies) to plain text: text nodes joined,
//! paragraphs, headings, list items and code blocks on their own lines, hard breaks as newlines,
//! mentions and emoji by their text.

use serde_json::Value;

const BLOCKS: &[&str] = &["paragraph", "heading", "listItem", "codeBlock", "blockquote", "rule", "tableRow", "panel"];

fn walk(node: &Value, out: &mut String, depth: usize) {
    if depth > 64 {
        return;
    }
    let kind = node.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => {
            if let Some(t) = node.get("text").and_then(Value::as_str) {
                out.push_str(t);
            }
        }
        "hardBreak" => out.push('\n'),
        "mention" | "emoji" | "status" | "date" => {
            let attrs = node.get("attrs");
            let t = attrs
                .and_then(|a| a.get("text").or_else(|| a.get("shortName")).or_else(|| a.get("timestamp")))
                .and_then(Value::as_str)
                .unwrap_or("");
            out.push_str(t);
        }
        "inlineCard" | "blockCard" => {
            if let Some(u) = node.get("attrs").and_then(|a| a.get("url")).and_then(Value::as_str) {
                out.push_str(u);
            }
        }
        _ => {}
    }
    if let Some(children) = node.get("content").and_then(Value::as_array) {
        for c in children {
            walk(c, out, depth + 1);
        }
    }
    if BLOCKS.contains(&kind) && !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
}

/// Plain text of a description or comment body: a string as is, an ADF document flattened, else None.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) if v.get("type").and_then(Value::as_str) == Some("doc") => {
            let mut out = String::new();
            walk(v, &mut out, 0);
            Some(out.trim_end().to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn adf_becomes_plain_text() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Checkout fails "}, {"type": "text", "text": "on Safari", "marks": [{"type": "strong"}]}]},
            {"type": "bulletList", "content": [{"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "step one"}]}]}]},
            {"type": "paragraph", "content": [{"type": "mention", "attrs": {"id": "x", "text": "@Alice"}}, {"type": "text", "text": " please look"}, {"type": "hardBreak"}, {"type": "text", "text": "thanks"}]}
        ]});
        assert_eq!(text(&doc).unwrap(), "Checkout fails on Safari\nstep one\n@Alice please look\nthanks");
        assert_eq!(text(&json!("plain")).unwrap(), "plain");
        assert_eq!(text(&json!(null)), None);
        assert_eq!(text(&json!({"type": "paragraph"})), None);
    }
}
