//! Target `dotenv`: the `.env` parser of the credential sources.

use crate::leak::assert_not_quoted;
use keyward::__private::fuzzing;

/// Parses a `.env` file's content as `DotEnvSource` does (after its permission and git checks).
///
/// Checks that a value holds a line break only if its assignment opens a quote on its own line
/// (as in a shell, a quote may open mid-value: `A=x"y` continues up to the next `"`), writes it
/// as an escape (`\n`, which dotenvy reads in unquoted values too), or substitutes another
/// variable, which may hold one: any other line break means a line was read into the previous
/// variable's value, and a secret into the wrong variable. (A credential with a line break is
/// refused afterwards unless it is a PEM block: see the `secret_file` target.) And that an error
/// names the line, never its content, which may hold a secret.
pub fn dotenv(data: &[u8]) {
    let Ok(content) = std::str::from_utf8(data) else {
        // `DotEnvSource` refuses a file that is not UTF-8 before parsing it.
        return;
    };
    match fuzzing::parse_dotenv(content) {
        Ok(variables) => {
            for (name, value) in &variables {
                // A carriage return inside a line stays in its value, as written: the one-line rule of
                // credentials refuses it later (see the `secret_file` target).
                if value.contains('\n') {
                    assert!(
                        assignments(content, name).any(|value| value
                            .split('\n')
                            .next()
                            .is_some_and(|first_line| first_line.contains(['"', '\'', '$', '\\']))),
                        "{name} holds a line break, but no assignment of it opens a quote or escapes on its line"
                    );
                }
            }
        }
        Err(err) => assert_not_quoted(&err.to_string(), data, ".env file fuzz.env"),
    }
}

/// The raw text after `name =` (blanks allowed around `=`), for each assignment of `name`.
fn assignments<'a>(content: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    content.match_indices(name).filter_map(move |(at, _)| {
        // dotenvy trims any whitespace but a line break around the `=`.
        let blank = |c: char| c.is_whitespace() && c != '\n';
        let rest = content[at + name.len()..].trim_start_matches(blank);
        Some(rest.strip_prefix('=')?.trim_start_matches(blank))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_line_breaks_are_found() {
        let content = "A=1\nB = \"x\ny\"\nexport C='z'\n";
        assert_eq!(
            assignments(content, "B").collect::<Vec<_>>(),
            ["\"x\ny\"\nexport C='z'\n"]
        );
        assert_eq!(assignments(content, "C").next(), Some("'z'\n"));
        dotenv(content.as_bytes());
    }

    #[test]
    fn an_unterminated_quote_is_an_error_that_does_not_quote_the_secret() {
        let content = b"BINANCE_API_SECRET=\"test-only-secret-unterminated\n";
        assert!(fuzzing::parse_dotenv(std::str::from_utf8(content).unwrap()).is_err());
        dotenv(content);
    }
}
