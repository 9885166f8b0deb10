//! Replays every committed fuzz input through its target, without cargo-fuzz: the seeds of
//! `fuzz/corpus/<target>/` and the crashes kept in `fuzz/regressions/<target>/`.

#![allow(clippy::unwrap_used, reason = "test helpers may unwrap, like the tests themselves")]

use std::{
    fs,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `fuzz/<folder>/<target>/`, sorted; none when the folder does not exist.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(fuzz_dir().join(folder).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of `fuzz/<folder>/` through its target; returns how many ran, and fails
/// naming every input whose target panicked.
fn replay(folder: &str) -> usize {
    let mut ran = 0;
    let mut failed = Vec::new();
    for (target, run) in keyward_fuzz::TARGETS {
        for path in inputs(folder, target) {
            let data = fs::read(&path).unwrap();
            if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
                failed.push(path.display().to_string());
            }
            ran += 1;
        }
    }
    assert!(
        failed.is_empty(),
        "fuzz inputs that fail their target:\n{}",
        failed.join("\n")
    );
    ran
}

#[test]
fn every_seed_passes_its_target() {
    assert!(replay("corpus") > 50);
}

#[test]
fn every_kept_crash_passes_its_target() {
    replay("regressions");
}

#[test]
fn every_target_has_a_fuzz_binary_and_seeds() {
    for (target, _) in keyward_fuzz::TARGETS {
        let binary = fs::read_to_string(fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"))).unwrap();
        assert!(binary.contains(&format!("keyward_fuzz::{target}(data)")), "{target}");
        assert!(inputs("corpus", target).len() >= 3, "{target} has too few seeds");
    }
    let binaries = fs::read_dir(fuzz_dir().join("fuzz_targets")).unwrap().count();
    assert_eq!(binaries, keyward_fuzz::TARGETS.len(), "a fuzz binary without a target");
}

/// Crash found by `classify_response`: Gate, BitMEX and KuCoin kept an exchange-written message
/// of any length (an error page or a hostile proxy's body goes into errors, logs and the audit
/// trail), although `exchange::response` bounds messages for every exchange. Fixed by cutting
/// them with `message_excerpt` like the other five.
#[test]
fn regression_unbounded_error_message() {
    let long = "m".repeat(5_000);
    for reply in [
        format!(r#"gate 431{}{{"label":"INVALID_KEY","message":"{long}"}}"#, "\n\n"),
        format!(r#"gate 400{}{{"label":"{long}","detail":"x"}}"#, "\n\n"),
        format!(
            r#"bitmex 400{}{{"error":{{"message":"{long}","name":"HTTPError"}}}}"#,
            "\n\n"
        ),
        format!(r#"kucoin 400{}{{"code":"400100","msg":"{long}"}}"#, "\n\n"),
    ] {
        keyward_fuzz::classify_response(reply.as_bytes());
    }
    keyward_fuzz::classify_response(&read_regression("classify_response", "gate-message-of-304-characters"));
}

/// An error code sent as a string is kept as the exchange sent it: a code of any length went
/// into the error whole (OKX, KuCoin).
#[test]
fn regression_unbounded_error_code() {
    let long = "5".repeat(5_000);
    for reply in [
        format!(r#"okx 400{}{{"code":"{long}","msg":"x","data":[]}}"#, "\n\n"),
        format!(r#"kucoin 400{}{{"code":"{long}","msg":"x"}}"#, "\n\n"),
    ] {
        keyward_fuzz::classify_response(reply.as_bytes());
    }
}

/// Crash found by `classify_response`: Kraken joined every error of a response into the message,
/// and kept the first whole as the code, however long. Fixed by cutting both.
#[test]
fn regression_kraken_errors_joined_without_bound() {
    keyward_fuzz::classify_response(&read_regression(
        "classify_response",
        "kraken-errors-joined-to-308-characters",
    ));
    let many = vec![format!("\"EAPI:Invalid nonce {}\"", "x".repeat(400)); 50].join(",");
    keyward_fuzz::classify_response(format!("kraken 200\n\n{{\"error\":[{many}]}}").as_bytes());
}

/// Crash found by `response_headers`: a `Retry-After` of 10^18 seconds overflowed the rate
/// limiter's hold (`now + wait`): a panic in a debug build, and in a release build a hold that
/// wraps round to the past, so the client kept sending into a rate limit. Fixed by saturating
/// the hold and the ban.
#[test]
fn regression_retry_after_overflows_the_hold() {
    keyward_fuzz::response_headers(&read_regression("response_headers", "retry-after-overflows-the-hold"));
    for exchange in ["binance 429", "binance 418", "okx 429", "coinbase 429", "bitmex 429"] {
        keyward_fuzz::response_headers(format!("{exchange}\nRetry-After: 18446744073709551615\n\n{{}}").as_bytes());
    }
}

/// Crash found by `secret_file`: a lone carriage return inside a secrets file passed as a
/// one-line credential (`str::lines` splits at `\n` only), and would have gone into a header or
/// a signature. Fixed by counting `\r` as a line break.
#[test]
fn regression_lone_carriage_return_in_a_credential() {
    keyward_fuzz::secret_file(&read_regression("secret_file", "lone-carriage-return"));
    for content in [
        &b"test-only\rsecret"[..],
        b"\rtest-only-secret",
        b"test-only-secret\r\nsecond-line\r\n",
    ] {
        assert!(
            keyward::__private::fuzzing::credential_text(content).is_err(),
            "{content:?}"
        );
    }
    assert!(keyward::__private::fuzzing::credential_text(b"test-only-secret\r\n").is_ok());
}

/// Found by `dotenv`, a mistake of the target rather than of the parser: as in a shell, a quote
/// may open in the middle of a value (`A=x"y`) and run over lines; the check now asks for a
/// quote on the assignment's line rather than at the start of its value.
#[test]
fn regression_quote_opened_mid_value() {
    keyward_fuzz::dotenv(&read_regression("dotenv", "quote-opened-mid-value"));
}

/// Found by `dotenv`, a mistake of the target: a carriage return inside a line is kept in the
/// value as written (lines end at `\n`), not read from another line; the credential check then
/// refuses it, as `regression_lone_carriage_return_in_a_credential` shows.
#[test]
fn regression_carriage_return_inside_a_line() {
    keyward_fuzz::dotenv(&read_regression("dotenv", "carriage-return-inside-a-line"));
    // The same mistake around the `=`, which dotenvy trims like a space.
    keyward_fuzz::dotenv(&read_regression("dotenv", "carriage-return-before-the-equals-sign"));
}

/// Found by `dotenv`, a mistake of the target: dotenvy reads `\n` as a line break in unquoted
/// values too (`A=x\ny`), so an escape on the assignment's line is also an honest source of one.
/// Such a credential is then refused by the one-line rule, which this test also shows.
#[test]
fn regression_backslash_n_escape_in_an_unquoted_value() {
    keyward_fuzz::dotenv(&read_regression("dotenv", "backslash-n-escape-in-an-unquoted-value"));
    let variables = keyward::__private::fuzzing::parse_dotenv("SECRET=test-only\\nsecret\n").unwrap();
    assert_eq!(variables["SECRET"].as_str(), "test-only\nsecret");
    assert!(keyward::__private::fuzzing::credential_text(variables["SECRET"].as_bytes()).is_err());
}

/// Found by `audited_args`, a mistake of the target: a constant field's value may hold commas
/// outside brackets (`x = |a, b| a`), which the target's own argument count split on.
#[test]
fn regression_closure_with_commas_in_a_constant() {
    keyward_fuzz::audited_args(&read_regression("audited_args", "closure-with-commas-in-a-constant"));
    keyward_fuzz::audited_args(b"pick = |a, b| a, skip(b)");
}

/// Found by `audit_trail`, a mistake of the target: duplicating the only line of a text doubles
/// it, and a few dozen such edits ran out of memory. Edits now stop at 64 KiB.
#[test]
fn regression_one_line_duplicated_until_out_of_memory() {
    keyward_fuzz::audit_trail(&read_regression(
        "audit_trail",
        "one-line-duplicated-until-out-of-memory",
    ));
}

fn read_regression(target: &str, name: &str) -> Vec<u8> {
    fs::read(fuzz_dir().join("regressions").join(target).join(name)).unwrap()
}
