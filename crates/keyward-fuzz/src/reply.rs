//! The input format of the response targets: an exchange's answer written like an HTTP/1.1
//! response, so that a seed can be pasted from the exchange's documentation.
//!
//! ```text
//! binance 429
//! Retry-After: 17
//! X-MBX-USED-WEIGHT-1M: 6001
//!
//! {"code":-1003,"msg":"Too much request weight used"}
//! ```
//!
//! The first line names the exchange and the status; each following line up to the first blank
//! line is a header; the rest is the body. Whatever is not well-formed still maps to some
//! response (an unknown exchange name picks one by its bytes, an unreadable status is 200, a
//! header that HTTP cannot carry is left out), so that every input reaches the parsers.
//!
//! # Example
//!
//! ```
//! use keyward_fuzz::reply::ExchangeReply;
//!
//! let reply = ExchangeReply::parse(b"okx 401\nContent-Type: application/json\n\n{\"code\":\"50113\"}");
//! assert_eq!(reply.exchange.name(), "okx");
//! assert_eq!(reply.status, 401);
//! assert_eq!(reply.headers["content-type"], "application/json");
//! assert_eq!(reply.body, b"{\"code\":\"50113\"}");
//! ```

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use keyward::exchange::{self, Exchange};

/// One exchange's response, as read from fuzz input.
#[derive(Debug)]
pub struct ExchangeReply<'a> {
    /// The exchange whose parsers read it.
    pub exchange: &'static dyn Exchange,
    /// The HTTP status.
    pub status: StatusCode,
    /// The headers, in input order (repeated names kept).
    pub headers: HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> ExchangeReply<'a> {
    /// Reads `data` in the format of the [module docs](self); never fails.
    pub fn parse(data: &'a [u8]) -> Self {
        let (head, body) = match find(data, b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &b""[..]),
        };
        let mut lines = head
            .split(|byte| *byte == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let first = lines.next().unwrap_or_default();
        let mut words = first.split(|byte| *byte == b' ').filter(|word| !word.is_empty());
        let name = words.next().unwrap_or_default();
        let status = words
            .next()
            .and_then(|word| std::str::from_utf8(word).ok())
            .and_then(|word| word.parse::<u16>().ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::OK);
        let mut headers = HeaderMap::new();
        for line in lines {
            let Some(colon) = line.iter().position(|byte| *byte == b':') else {
                continue;
            };
            let name = HeaderName::from_bytes(line[..colon].trim_ascii());
            let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii_start());
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.append(name, value);
            }
        }
        Self {
            exchange: exchange_named(name),
            status,
            headers,
            body,
        }
    }
}

/// The exchange called `name`, or one picked by its bytes, so that a mutated name still reaches
/// every exchange.
fn exchange_named(name: &[u8]) -> &'static dyn Exchange {
    std::str::from_utf8(name)
        .ok()
        .and_then(exchange::by_name)
        .unwrap_or_else(|| {
            let pick = name
                .iter()
                .fold(0usize, |sum, byte| sum.wrapping_add(usize::from(*byte)));
            exchange::ALL[pick % exchange::ALL.len()]
        })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_parts_still_make_a_response() {
        let reply = ExchangeReply::parse(b"mtgox abc\nno colon here\nBad Name: x\nX-Ok: \t1\n");
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.headers.len(), 1);
        assert_eq!(reply.headers["x-ok"], "1");
        assert!(reply.body.is_empty());
        let empty = ExchangeReply::parse(b"");
        assert_eq!(empty.exchange.name(), exchange::ALL[0].name());
    }

    #[test]
    fn crlf_lines_and_repeated_headers_are_kept() {
        let reply = ExchangeReply::parse(b"kraken 200\r\nA: 1\r\nA: 2\n\nbody\n\nmore");
        assert_eq!(reply.exchange.name(), "kraken");
        assert_eq!(reply.headers.get_all("a").iter().count(), 2);
        assert_eq!(reply.body, b"body\n\nmore");
    }
}
