//! Keeps secrets out of reports: source lines that assign a secret-looking attribute, and
//! credentials inside module source addresses.
//!
//! Both work on text alone, so they err towards hiding: any attribute whose name contains one of
//! [`SECRET_NAME_PARTS`] loses its value, whatever the value is. A secret assigned to an
//! attribute with an innocent name (`value = "..."` next to `name = "password"`) is not
//! recognised; the text format only quotes the line a finding points at, which is the line of
//! an attribute a rule judged, not of a credential.

use std::borrow::Cow;

/// What replaces a hidden value.
pub const REDACTED: &str = "<redacted>";

/// Parts of attribute names whose values are treated as secrets, compared after lowercasing and
/// dropping `_` and `-` (so `private_key`, `privateKey` and `PRIVATE-KEY` all match
/// `privatekey`).
pub const SECRET_NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "privatekey",
    "accesskey",
    "apikey",
    "credential",
    "connectionstring",
    "sshkey",
    "sastoken",
    "signingkey",
    "clientkey",
];

/// URL user names that are conventions, not credentials: `git@github.com`.
const PUBLIC_URL_USERS: &[&str] = &["git"];

/// Whether an attribute or parameter name looks like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_NAME_PARTS.iter().any(|part| folded.contains(part))
}

/// Replaces everything after the first secret-looking assignment in a line of HCL or JSON with
/// [`REDACTED`]. Recognised assignments are `name = ...`, `"name" = ...` and `"name": ...`,
/// also inside strings (`"export DB_PASSWORD=..."`).
pub fn redact_assignment(line: &str) -> Cow<'_, str> {
    match secret_value_start(line) {
        Some(start) => Cow::Owned(format!("{} {REDACTED}", &line[..start])),
        None => Cow::Borrowed(line),
    }
}

/// The byte offset just past the `=` or `:` of the first assignment to a secret-looking name.
fn secret_value_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let (name, quoted, end) = match bytes[i] {
            b'"' => {
                let end = closing_quote(bytes, i + 1);
                (&line[i + 1..end.min(bytes.len())], true, end + 1)
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let end = i + line[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(line.len() - i);
                (&line[i..end], false, end)
            }
            _ => {
                i += 1;
                continue;
            }
        };

        if end < bytes.len() {
            let after_space = end + line[end..].len() - line[end..].trim_start().len();
            if let Some(operator_end) = assignment_operator(bytes, after_space, quoted) {
                if is_secret_name(name) {
                    return Some(operator_end);
                }
            }
        }

        // A string is searched too: `"export DB_PASSWORD=..."` assigns a secret inside it.
        i = if quoted { i + 1 } else { end };
    }
    None
}

/// The index of the closing `"` of a string starting at `from`, or the line's length.
fn closing_quote(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Just past the `=` (or, after a quoted name, `:`) at `at`, when there is an assignment there;
/// `==` and `=>` are comparisons and `for` arrows, not assignments.
fn assignment_operator(bytes: &[u8], at: usize, quoted: bool) -> Option<usize> {
    match bytes.get(at)? {
        b'=' if !matches!(bytes.get(at + 1), Some(b'=' | b'>')) => Some(at + 1),
        b':' if quoted => Some(at + 1),
        _ => None,
    }
}

/// Hides credentials in the URLs inside a text, such as a module `source`: the user information
/// of `https://user:token@host/...` and the values of secret-looking query parameters
/// (`?sshkey=...`, `?token=...`).
pub fn redact_url_credentials(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }

    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        result.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];

        let url_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(rest.len());
        result.push_str(&redact_url(&rest[..url_end]));
        rest = &rest[url_end..];
    }
    result.push_str(rest);
    Cow::Owned(result)
}

/// Redacts one URL given without its scheme: `user:pass@host/path?query#fragment`.
fn redact_url(url: &str) -> String {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let (authority, tail) = url.split_at(authority_end);
    let mut result = match authority.rfind('@') {
        Some(at) if !PUBLIC_URL_USERS.contains(&&authority[..at]) => {
            format!("{REDACTED}@{}", &authority[at + 1..])
        }
        _ => authority.to_string(),
    };

    let Some(query_start) = tail.find('?') else {
        result.push_str(tail);
        return result;
    };
    result.push_str(&tail[..=query_start]);
    let query_and_fragment = &tail[query_start + 1..];
    let query_end = query_and_fragment
        .find('#')
        .unwrap_or(query_and_fragment.len());
    let (query, fragment) = query_and_fragment.split_at(query_end);

    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    result.push_str(&pairs.join("&"));
    result.push_str(fragment);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_match_in_any_spelling() {
        for name in [
            "password",
            "master_password",
            "DB_PASSWORD",
            "privateKey",
            "private-key",
            "secret_string",
            "access_token",
            "primary_access_key",
            "connection_string",
            "api_key",
            "credentials",
        ] {
            assert!(is_secret_name(name), "{name} should look secret");
        }
        for name in [
            "kms_key_id",
            "kms_master_key_id",
            "encrypted",
            "storage_encrypted",
            "arn",
        ] {
            assert!(!is_secret_name(name), "{name} should not look secret");
        }
    }

    #[test]
    fn hcl_assignments_to_secret_names_lose_their_value() {
        assert_eq!(
            redact_assignment(r#"  password          = "hunter2-Secret""#),
            "  password          = <redacted>"
        );
        assert_eq!(
            redact_assignment(r#"  master = { user = "admin", password = "x" } # note"#),
            r#"  master = { user = "admin", password = <redacted>"#
        );
        assert_eq!(
            redact_assignment(r#"  "DB_PASSWORD" = var.db_password"#),
            r#"  "DB_PASSWORD" = <redacted>"#
        );
    }

    #[test]
    fn json_keys_that_look_secret_lose_their_value() {
        assert_eq!(
            redact_assignment(r#"    "password": "hunter2","#),
            r#"    "password": <redacted>"#
        );
    }

    #[test]
    fn other_lines_are_left_alone() {
        for line in [
            "  encrypted         = var.encrypted",
            r#"  kms_key_id = aws_kms_key.a.arn"#,
            r#"  description = "rotate the password yearly""#,
            "  count = var.password_count == 0 ? 1 : 0",
            "  for k, v in var.tokens : k => v",
            "}",
            "",
        ] {
            assert_eq!(redact_assignment(line), line);
        }
    }

    #[test]
    fn assignments_inside_strings_are_found() {
        assert_eq!(
            redact_assignment(r#"  user_data = "export DB_PASSWORD=hunter2 && run""#),
            r#"  user_data = "export DB_PASSWORD= <redacted>"#
        );
    }

    #[test]
    fn comparisons_are_not_assignments() {
        let line = "  enabled = var.token == \"\"";
        assert_eq!(redact_assignment(line), line);
    }

    #[test]
    fn url_credentials_are_hidden() {
        assert_eq!(
            redact_url_credentials("git::https://deploy:ghp_abc123@github.example/org/vpc.git"),
            "git::https://<redacted>@github.example/org/vpc.git"
        );
        assert_eq!(
            redact_url_credentials("git::ssh://git@host/repo.git?ref=v1&sshkey=AAAA#frag"),
            "git::ssh://git@host/repo.git?ref=v1&sshkey=<redacted>#frag"
        );
        assert_eq!(
            redact_url_credentials("cannot read https://host/x?token=abc: not found"),
            "cannot read https://host/x?token=<redacted> not found"
        );
        assert_eq!(redact_url_credentials("./modules/vpc"), "./modules/vpc");
    }
}
