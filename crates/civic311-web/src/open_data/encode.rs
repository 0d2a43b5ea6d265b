//! The three export formats, written row by row so a body of any size streams in
//! constant memory, and the gzip that may wrap them.

use std::io::Write;

use axum::body::Bytes;
use civic311_app::open_data::{LAT, LONG, Value};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// An export's format, chosen by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180: a header line, CRLF line ends, fields quoted when they must be.
    Csv,
    /// An array of objects keyed by column.
    Json,
    /// A FeatureCollection: each row a Feature with a point (or no geometry) and the
    /// other columns as properties.
    GeoJson,
}

impl Format {
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "geojson" => Some(Format::GeoJson),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::GeoJson => "geojson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Json => "application/json; charset=utf-8",
            Format::GeoJson => "application/geo+json; charset=utf-8",
        }
    }
}

/// Writes rows of `columns` in one format.
pub struct Writer<'a> {
    pub format: Format,
    pub columns: &'a [String],
    pub tz: &'a TimeZone,
    /// Rows written so far (JSON separates them with commas).
    pub rows: u64,
}

impl Writer<'_> {
    /// What the body starts with.
    pub fn head(&self, out: &mut String) {
        match self.format {
            Format::Csv => {
                for (i, c) in self.columns.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    csv_field(c, out);
                }
                out.push_str("\r\n");
            }
            Format::Json => out.push('['),
            Format::GeoJson => out.push_str(r#"{"type":"FeatureCollection","features":["#),
        }
    }

    /// One row.
    pub fn row(&mut self, values: &[Value], out: &mut String) {
        if self.rows > 0 && self.format != Format::Csv {
            out.push(',');
        }
        self.rows += 1;
        match self.format {
            Format::Csv => {
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match v {
                        Value::Text(s) => csv_field(s, out),
                        Value::Number(n) => number(*n, out),
                        Value::Time(t) => w3c(*t, self.tz, out),
                        Value::Null => {}
                    }
                }
                out.push_str("\r\n");
            }
            Format::Json => {
                out.push('\n');
                self.object(values, None, out);
            }
            Format::GeoJson => {
                out.push_str("\n{\"type\":\"Feature\",\"geometry\":");
                match (values.get(LAT), values.get(LONG)) {
                    (Some(Value::Number(lat)), Some(Value::Number(lon))) => {
                        out.push_str(r#"{"type":"Point","coordinates":["#);
                        number(*lon, out);
                        out.push(',');
                        number(*lat, out);
                        out.push_str("]}");
                    }
                    _ => out.push_str("null"),
                }
                out.push_str(",\"properties\":");
                self.object(values, Some([LAT, LONG]), out);
                out.push('}');
            }
        }
    }

    /// What the body ends with.
    pub fn tail(&self, out: &mut String) {
        match self.format {
            Format::Csv => {}
            Format::Json => out.push_str("\n]\n"),
            Format::GeoJson => out.push_str("\n]}\n"),
        }
    }

    fn object(&self, values: &[Value], skip: Option<[usize; 2]>, out: &mut String) {
        out.push('{');
        let mut first = true;
        for (i, (name, v)) in self.columns.iter().zip(values).enumerate() {
            if skip.is_some_and(|s| s.contains(&i)) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            json_string(name, out);
            out.push(':');
            match v {
                Value::Text(s) => json_string(s, out),
                Value::Number(n) => number(*n, out),
                Value::Time(t) => {
                    out.push('"');
                    w3c(*t, self.tz, out);
                    out.push('"');
                }
                Value::Null => out.push_str("null"),
            }
        }
        out.push('}');
    }
}

/// Writes `t` as the city reads it, `2026-03-03T15:00:00-06:00` (what
/// `open311::render::datetime` writes, digit by digit: an export holds millions of
/// times, and the formatting machinery cost more than the rest of the row).
fn w3c(t: Timestamp, tz: &TimeZone, out: &mut String) {
    let offset = tz.to_offset(t);
    let d = offset.to_datetime(t);
    let secs = offset.seconds();
    let (sign, abs) = if secs < 0 { (b'-', -secs) } else { (b'+', secs) };
    let Ok(year) = u16::try_from(d.year()) else {
        // Before the common era: never a request's time.
        out.push_str(&crate::open311::render::datetime(t, tz));
        return;
    };
    let two = |v: i32| [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8];
    let mut b = [0u8; 25];
    let year = i32::from(year);
    b[..2].copy_from_slice(&two(year / 100));
    b[2..4].copy_from_slice(&two(year % 100));
    b[4] = b'-';
    b[5..7].copy_from_slice(&two(i32::from(d.month())));
    b[7] = b'-';
    b[8..10].copy_from_slice(&two(i32::from(d.day())));
    b[10] = b'T';
    b[11..13].copy_from_slice(&two(i32::from(d.hour())));
    b[13] = b':';
    b[14..16].copy_from_slice(&two(i32::from(d.minute())));
    b[16] = b':';
    b[17..19].copy_from_slice(&two(i32::from(d.second())));
    b[19] = sign;
    b[20..22].copy_from_slice(&two(abs / 3600));
    b[22] = b':';
    b[23..25].copy_from_slice(&two(abs % 3600 / 60));
    out.push_str(std::str::from_utf8(&b).unwrap_or_default());
    if abs % 60 != 0 {
        // Local mean time, before time zones: `-05:50:36`, as jiff writes it.
        out.push(':');
        out.push_str(std::str::from_utf8(&two(abs % 60)).unwrap_or_default());
    }
}

/// Writes a coordinate: the shortest decimal that reads back as the same number
/// (nothing for one that is not finite).
fn number(n: f64, out: &mut String) {
    use std::fmt::Write as _;
    if n.is_finite() {
        let _ = write!(out, "{n}");
    }
}

/// Writes `s` as a JSON string: quoted, with quotes, backslashes and control
/// characters escaped.
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escaped.is_empty() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(escaped);
        }
        plain = i + c.len_utf8();
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// Writes a CSV field, quoted (its quotes doubled) when it holds a comma, a quote or a
/// line break, or starts or ends with a space.
pub fn csv_field(s: &str, out: &mut String) {
    let needs = s.contains([',', '"', '\r', '\n']) || s.starts_with(' ') || s.ends_with(' ');
    if needs {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Where written text goes: through as it is, or gzipped.
pub enum Sink {
    Plain,
    Gzip(GzEncoder<Vec<u8>>),
}

impl Sink {
    pub fn new(gzip: bool) -> Self {
        if gzip { Sink::Gzip(GzEncoder::new(Vec::new(), Compression::fast())) } else { Sink::Plain }
    }

    /// The bytes to send for `text`: all of it, or what the compressor let out so far.
    pub fn push(&mut self, text: String) -> std::io::Result<Bytes> {
        match self {
            Sink::Plain => Ok(Bytes::from(text)),
            Sink::Gzip(gz) => {
                gz.write_all(text.as_bytes())?;
                Ok(Bytes::from(std::mem::take(gz.get_mut())))
            }
        }
    }

    /// The last bytes: `text`, then the end of the gzip stream.
    pub fn finish(self, text: String) -> std::io::Result<Bytes> {
        match self {
            Sink::Plain => Ok(Bytes::from(text)),
            Sink::Gzip(mut gz) => {
                gz.write_all(text.as_bytes())?;
                Ok(Bytes::from(gz.finish()?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        let field = |s: &str| {
            let mut out = String::new();
            csv_field(s, &mut out);
            out
        };
        assert_eq!(field("Pothole"), "Pothole");
        assert_eq!(field("deep, wide"), "\"deep, wide\"");
        assert_eq!(field("a \"big\" one"), "\"a \"\"big\"\" one\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn json_strings_read_back_as_written() {
        for s in ["plain", "a \"quote\"", "back\\slash", "two\nlines\r\n\ttab", "bell\u{7}", "García ünï 🚧"] {
            let mut out = String::new();
            json_string(s, &mut out);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s, "{out}");
        }
    }

    #[test]
    fn times_are_written_as_open311_writes_them() {
        let tz = TimeZone::get("America/Chicago").unwrap();
        for t in ["2026-03-03T21:00:00Z", "2026-07-01T05:04:03.999Z", "1999-12-31T23:59:59Z", "0905-01-09T10:11:12Z"] {
            let t: Timestamp = t.parse().unwrap();
            let mut out = String::new();
            w3c(t, &tz, &mut out);
            assert_eq!(out, crate::open311::render::datetime(t, &tz));
        }
        let mut out = String::new();
        w3c("2026-03-03T21:00:00Z".parse().unwrap(), &TimeZone::get("Asia/Kolkata").unwrap(), &mut out);
        assert_eq!(out, "2026-03-04T02:30:00+05:30");
    }

    #[test]
    fn geojson_puts_the_point_in_the_geometry() {
        let columns: Vec<String> = civic311_app::open_data::BULK_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        let mut values = vec![Value::Null; columns.len()];
        values[0] = Value::Text("2026-000001".into());
        values[LAT] = Value::Number(39.75);
        values[LONG] = Value::Number(-104.99);
        let tz = TimeZone::UTC;
        let mut w = Writer { format: Format::GeoJson, columns: &columns, tz: &tz, rows: 0 };
        let mut out = String::new();
        w.head(&mut out);
        w.row(&values, &mut out);
        values[LAT] = Value::Null;
        w.row(&values, &mut out);
        w.tail(&mut out);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["features"][0]["geometry"]["coordinates"], serde_json::json!([-104.99, 39.75]));
        assert!(doc["features"][1]["geometry"].is_null());
        assert!(doc["features"][0]["properties"].get("lat").is_none());
        assert_eq!(doc["features"][0]["properties"]["service_request_id"], "2026-000001");
    }
}
