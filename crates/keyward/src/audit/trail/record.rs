//! One record: how an event becomes a line, and how a line's chain fields are read back.

use std::fmt::{self, Write as _};

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;
use tracing::field::{Field, Visit};

/// The `prev` of the first record.
pub(crate) const GENESIS_HASH: [u8; 32] = [0; 32];

/// The SHA-256 of a line's bytes, without its newline.
pub(crate) fn hash_line(line: &[u8]) -> [u8; 32] {
    Sha256::digest(line).into()
}

/// An event's fields as the inside of a JSON object (`"a":1,"b":"x"`), in the order recorded.
#[derive(Default)]
pub(crate) struct FieldsJson {
    json: String,
}

impl FieldsJson {
    fn push(&mut self, name: &str, value: Value) {
        if !self.json.is_empty() {
            self.json.push(',');
        }
        // Display of a JSON value is its compact serialization and cannot fail.
        let _ = write!(self.json, "{}:{}", Value::from(name), value);
    }
}

impl Visit for FieldsJson {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity; keep them readable rather than turn them into null.
        let value = serde_json::Number::from_f64(value).map_or_else(|| Value::from(value.to_string()), Value::Number);
        self.push(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field.name(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field.name(), Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value = i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::from);
        self.push(field.name(), value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value = u64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::from);
        self.push(field.name(), value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field.name(), Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field.name(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field.name(), Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field.name(), Value::from(format!("{value:?}")));
    }
}

/// Everything of a record that is known before it takes its place in the chain.
pub(crate) struct PendingRecord {
    pub(crate) level: &'static str,
    pub(crate) target: String,
    pub(crate) spans: Vec<&'static str>,
    pub(crate) fields: FieldsJson,
}

impl PendingRecord {
    /// The record's line, newline included, once it is given its place in the chain.
    pub(crate) fn to_line(&self, seq: u64, ts: OffsetDateTime, prev: &[u8; 32]) -> String {
        let spans: Vec<String> = self.spans.iter().map(|name| Value::from(*name).to_string()).collect();
        format!(
            "{{\"seq\":{seq},\"ts\":\"{ts}\",\"prev\":\"{prev}\",\"level\":\"{level}\",\"target\":{target},\
             \"spans\":[{spans}],\"fields\":{{{fields}}}}}\n",
            ts = format_timestamp(ts),
            prev = hex::encode(prev),
            level = self.level,
            target = Value::from(self.target.as_str()),
            spans = spans.join(","),
            fields = self.fields.json,
        )
    }
}

/// RFC 3339 in UTC with microseconds: `2025-01-31T23:59:59.123456Z`.
fn format_timestamp(ts: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    let utc = ts.to_offset(time::UtcOffset::UTC);
    // Formatting fails only for years beyond 9999 or before 0, which a system clock never reports;
    // fall back to the Unix timestamp rather than lose the record.
    utc.format(&format)
        .unwrap_or_else(|_| format!("@{}.{:06}", utc.unix_timestamp(), utc.microsecond()))
}

/// The chain fields of a stored record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ChainFields {
    pub(crate) seq: u64,
    pub(crate) prev: [u8; 32],
}

/// Reads `seq` and `prev` from a line (without its newline), or says why it is not a record.
pub(crate) fn parse_chain_fields(line: &[u8]) -> Result<ChainFields, String> {
    let value: Value = serde_json::from_slice(line).map_err(|err| format!("not a JSON record ({err})"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let seq = object
        .get("seq")
        .and_then(Value::as_u64)
        .ok_or("missing or invalid \"seq\"")?;
    let prev_hex = object
        .get("prev")
        .and_then(Value::as_str)
        .ok_or("missing or invalid \"prev\"")?;
    let prev = parse_hash(prev_hex).ok_or("\"prev\" is not 64 lower-case hex digits")?;
    Ok(ChainFields { seq, prev })
}

/// Parses a SHA-256 written as 64 lower-case hex digits, the only spelling the trail writes.
pub(crate) fn parse_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || text.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return None;
    }
    let mut hash = [0; 32];
    hex::decode_to_slice(text, &mut hash).ok()?;
    Some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_the_documented_shape() {
        let mut fields = FieldsJson::default();
        fields.push("symbol", Value::from("BTC\"USDT"));
        fields.push("quantity", Value::from(2));
        let record = PendingRecord {
            level: "INFO",
            target: "keyward::audit".into(),
            spans: vec!["outer", "inner"],
            fields,
        };
        let ts = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let line = record.to_line(7, ts, &GENESIS_HASH);
        assert_eq!(
            line,
            format!(
                "{{\"seq\":7,\"ts\":\"2023-11-14T22:13:20.123456Z\",\"prev\":\"{}\",\"level\":\"INFO\",\
                 \"target\":\"keyward::audit\",\"spans\":[\"outer\",\"inner\"],\
                 \"fields\":{{\"symbol\":\"BTC\\\"USDT\",\"quantity\":2}}}}\n",
                "0".repeat(64)
            )
        );
        let chain = parse_chain_fields(line.trim_end().as_bytes()).unwrap();
        assert_eq!(
            chain,
            ChainFields {
                seq: 7,
                prev: GENESIS_HASH
            }
        );
    }

    #[test]
    fn upper_case_prev_is_not_the_trail_spelling() {
        assert!(parse_hash(&"AB".repeat(32)).is_none());
        assert_eq!(parse_hash(&"ab".repeat(32)), Some([0xab; 32]));
    }
}
