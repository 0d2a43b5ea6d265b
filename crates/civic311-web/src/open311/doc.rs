//! One document model for Open311 responses, rendered as JSON (Spark convention: no
//! root wrapper, lists are bare arrays) or XML (UTF-8, declaration, no namespace).

use std::fmt::Write;

/// A value in an Open311 document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Text(String),
    /// An object: fields in document order.
    Obj(Vec<(&'static str, Node)>),
    /// A list whose items are written in XML as elements named `item`.
    List {
        item: &'static str,
        items: Vec<Node>,
    },
}

impl Node {
    pub fn text(s: impl Into<String>) -> Node {
        Node::Text(s.into())
    }

    /// `Text` for `Some`, `Null` for `None`.
    pub fn opt(s: Option<impl Into<String>>) -> Node {
        s.map_or(Node::Null, |s| Node::Text(s.into()))
    }

    pub fn list(item: &'static str, items: Vec<Node>) -> Node {
        Node::List { item, items }
    }
}

/// A whole response: the XML root element and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: &'static str,
    pub body: Node,
}

impl Document {
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        json(&self.body, &mut out);
        out
    }

    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        xml_element(self.root, &self.body, &mut out);
        out.push('\n');
        out
    }
}

fn json(n: &Node, out: &mut String) {
    match n {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Num(f) if f.is_finite() => {
            let _ = write!(out, "{f}");
        }
        Node::Num(_) => out.push_str("null"),
        Node::Text(s) => json_string(s, out),
        Node::Obj(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                json(v, out);
            }
            out.push('}');
        }
        Node::List { items, .. } => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(v, out);
            }
            out.push(']');
        }
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn xml_element(name: &str, n: &Node, out: &mut String) {
    match n {
        Node::Null => {
            let _ = write!(out, "<{name}/>");
        }
        Node::List { item, items } => {
            let _ = write!(out, "<{name}>");
            for v in items {
                xml_element(item, v, out);
            }
            let _ = write!(out, "</{name}>");
        }
        Node::Obj(fields) => {
            let _ = write!(out, "<{name}>");
            for (k, v) in fields {
                xml_element(k, v, out);
            }
            let _ = write!(out, "</{name}>");
        }
        scalar => {
            let _ = write!(out, "<{name}>");
            match scalar {
                Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Node::Int(i) => {
                    let _ = write!(out, "{i}");
                }
                Node::Num(f) => {
                    let _ = write!(out, "{f}");
                }
                Node::Text(s) => xml_escape(s, out),
                _ => {}
            }
            let _ = write!(out, "</{name}>");
        }
    }
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // Characters XML 1.0 cannot carry at all are dropped: intake refuses them,
            // but a document must stay well-formed whatever is stored.
            c if !civic311_domain::text::is_document_char(c) => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xml_never_carries_what_xml_cannot() {
        let d = Document { root: "r", body: Node::Obj(vec![("t", Node::text("a\u{1}b\u{FFFE}c\u{FFFF}\td\u{1b}"))]) };
        assert_eq!(d.to_xml(), "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<r><t>abc\td</t></r>\n");
    }

    #[test]
    fn one_model_two_formats() {
        let d = Document {
            root: "service_requests",
            body: Node::list(
                "request",
                vec![Node::Obj(vec![("id", Node::text("1 < 2 & \"q\"")), ("lat", Node::Num(41.5)), ("x", Node::Null)])],
            ),
        };
        assert_eq!(d.to_json(), r#"[{"id":"1 < 2 & \"q\"","lat":41.5,"x":null}]"#);
        assert_eq!(
            d.to_xml(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><id>1 &lt; 2 &amp; \"q\"</id><lat>41.5</lat><x/></request></service_requests>\n"
        );
    }
}
