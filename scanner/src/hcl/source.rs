//! Reading and parsing source files, and turning byte offsets into line numbers.

use crate::error::InputError;
use hcl_edit::structure::Body;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How long the parser may work on one file. A valid file of megabytes parses in well under a
/// second, but the parser backtracks between its two readings of `-` (a negative number or a
/// unary minus) at every open bracket, so a malformed file of nested, unclosed brackets can take
/// time that doubles with every two levels: 2 KiB nested 20 deep takes seconds, a little
/// deeper, hours. Past the budget the file is refused instead of holding up the scan.
const PARSE_BUDGET: Duration = Duration::from_secs(20);

/// A file that was read, as findings name it.
#[derive(Debug)]
pub(crate) struct SourceFile {
    /// The path as the user named it (see [`display_join`]).
    pub display: PathBuf,
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(display: PathBuf, text: &str) -> SourceFile {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            display,
            line_starts,
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> u32 {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        u32::try_from(line.max(1)).unwrap_or(u32::MAX)
    }

    /// The line where a span starts, when the parser recorded one.
    pub fn line(&self, span: Option<Range<usize>>) -> Option<u32> {
        span.map(|span| self.line_of(span.start))
    }
}

/// Reads a file as UTF-8 text, naming the file (and the line, for bad bytes) on failure. A
/// byte order mark is skipped, as Terraform skips it; UTF-16, which Terraform does not read,
/// is refused by name.
pub(crate) fn read_text(path: &Path, display: &Path) -> Result<String, InputError> {
    let bytes = crate::files::read_regular(path, display, "a Terraform source file")?;
    if let Some(encoding) = crate::files::wide_encoding(&bytes) {
        return Err(InputError::new(
            display,
            format!(
                "the file is {encoding} text; expected a Terraform source file in UTF-8, the \
                 only encoding Terraform reads (save it as UTF-8)"
            ),
        )
        .at(1, 1));
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.as_bytes();
            let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count();
            let column = 1 + bytes[..valid]
                .iter()
                .rev()
                .take_while(|&&b| b != b'\n')
                .count();
            Err(InputError::new(
                display,
                "the file is not valid UTF-8 text; expected a Terraform source file",
            )
            .at(to_u32(line), to_u32(column)))
        }
    }
}

/// Reads and parses an HCL file.
pub(crate) fn parse_file(path: &Path, display: &Path) -> Result<(SourceFile, Body), InputError> {
    let text = read_text(path, display)?;
    parse_text(&text, display)
}

/// Parses HCL text read from `display`.
///
/// Terraform accepts an object constructor that names the same key twice (`{ a = 1, a = 2 }`,
/// the last value wins); the parser refuses it. So, on that one error, the later key is renamed
/// in a copy of the text to a reserved name that carries the original one (see
/// [`redefined_key_marker`]), and the copy is parsed again; the evaluator reads the original
/// name back, so that the later value replaces the earlier one. Only characters are inserted,
/// never a line break, so every line number stays true; the columns of errors found later are
/// mapped back to the original text. A key written as a parenthesised expression is not
/// renamed and stays a syntax error.
pub(crate) fn parse_text(text: &str, display: &Path) -> Result<(SourceFile, Body), InputError> {
    let mut renamed = RenamedKeys::default();
    let mut current = std::borrow::Cow::Borrowed(text);
    loop {
        let err = match parse_within_budget(&current, display)? {
            Ok(body) => return Ok((SourceFile::new(display.to_path_buf(), &current), body)),
            Err(err) => err,
        };
        let offset = err.location().offset();
        if err.message().contains("redefined object key") && renamed.count < MAX_RENAMED_KEYS {
            if let Some(copy) = renamed.rename_key_at(&current, offset) {
                current = std::borrow::Cow::Owned(copy);
                continue;
            }
        }
        return Err(syntax_error(
            text,
            display,
            &err,
            renamed.original_offset(offset),
        ));
    }
}

/// How many repeated object keys one file may have renamed; each costs a parse of the file.
const MAX_RENAMED_KEYS: usize = 256;

/// The reserved start of a renamed key: `__hipaa_redefined_<n>__<original key>`. `n` keeps
/// each renamed key unique within its object, so a key given three times parses too.
const REDEFINED_KEY_PREFIX: &str = "__hipaa_redefined_";

/// The name a renamed object key stands for: the key itself for every other name.
pub(crate) fn original_object_key(key: &str) -> &str {
    let Some(rest) = key.strip_prefix(REDEFINED_KEY_PREFIX) else {
        return key;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest[digits..].strip_prefix("__") {
        Some(original) if digits > 0 => original,
        _ => key,
    }
}

/// The reserved name inserted before the `n`th renamed key.
fn redefined_key_marker(n: usize) -> String {
    format!("{REDEFINED_KEY_PREFIX}{n}__")
}

/// The insertions made to a file's text so far, to map offsets back to the original.
#[derive(Default)]
struct RenamedKeys {
    count: usize,
    /// (offset in the original text, bytes inserted there), in the order made.
    inserted: Vec<(usize, usize)>,
}

impl RenamedKeys {
    /// Renames the object key that starts at `offset` (an identifier or a quoted string) by
    /// inserting the marker before its name; `None` when no such key starts there.
    fn rename_key_at(&mut self, text: &str, offset: usize) -> Option<String> {
        let rest = text.get(offset..)?;
        let first = rest.chars().next()?;
        let name_at = if first == '"' {
            offset + 1
        } else if first.is_alphabetic() || first == '_' {
            offset
        } else {
            return None;
        };

        self.count += 1;
        let marker = redefined_key_marker(self.count);
        let mut copy = String::with_capacity(text.len() + marker.len());
        copy.push_str(&text[..name_at]);
        copy.push_str(&marker);
        copy.push_str(&text[name_at..]);
        let original_at = self.original_offset(name_at);
        self.inserted.push((original_at, marker.len()));
        Some(copy)
    }

    /// The offset in the original text of an offset in the renamed copy: an offset inside an
    /// inserted marker maps to where the marker was inserted.
    fn original_offset(&self, offset: usize) -> usize {
        let mut sorted = self.inserted.clone();
        sorted.sort_unstable();
        let mut shift = 0;
        for (at, len) in sorted {
            let copy_at = at + shift;
            if offset < copy_at {
                break;
            }
            if offset < copy_at + len {
                return at;
            }
            shift += len;
        }
        offset - shift
    }
}

/// A parse error as the user should read it: at the line and column of the original text.
/// Parses on a thread of its own and waits at most [`PARSE_BUDGET`] for it. A parse that
/// overruns is left to finish on its own (the process exits with the error meanwhile).
fn parse_within_budget(
    text: &str,
    display: &Path,
) -> Result<Result<Body, hcl_edit::parser::Error>, InputError> {
    let (sender, receiver) = mpsc::channel();
    let owned = text.to_string();
    let spawned = std::thread::Builder::new()
        .name("parse".to_string())
        .spawn(move || {
            // The receiver is gone only when the budget ran out; nothing is left to tell.
            let _ = sender.send(hcl_edit::parser::parse_body(&owned));
        });
    if spawned.is_err() {
        // No thread to spare: parse here, without a budget.
        return Ok(hcl_edit::parser::parse_body(text));
    }

    receiver.recv_timeout(PARSE_BUDGET).map_err(|_| {
        InputError::new(
            display,
            format!(
                "the HCL parser did not finish within {} s; expected Terraform source, and \
                 this looks like a malformed file of deeply nested, unclosed brackets",
                PARSE_BUDGET.as_secs()
            ),
        )
    })
}

fn syntax_error(
    text: &str,
    display: &Path,
    err: &hcl_edit::parser::Error,
    offset: usize,
) -> InputError {
    let at_end = text
        .get(offset..)
        .is_some_and(|rest| rest.trim().is_empty());
    let hint = match (at_end, err.message().contains("expected")) {
        (false, _) => "",
        (true, true) => " (the file ends before a `{`, `[` or `(` opened above is closed)",
        (true, false) => {
            "; expected a closing `}`, `]` or `)` for one opened above before the file ends"
        }
    };
    let expectation = match err.message().strip_suffix(UNEXPECTED) {
        Some(label) => format!("; {}", missing_expectation(label)),
        None => String::new(),
    };
    let (line, column) = line_and_column(text, offset);
    InputError::new(
        display,
        format!("HCL syntax error: {}{expectation}{hint}", err.message()),
    )
    .at(to_u32(line), to_u32(column))
}

/// How the parser ends a message when it has no expectation to offer.
const UNEXPECTED: &str = "unexpected token";

/// What was expected where the parser says only "unexpected token", by the label it gives
/// ("invalid unicode 4-digit hex code; "). Without a label, it stopped between two top-level
/// items: a `}`, `]` or `)` with nothing open, or text that starts neither an argument nor a
/// block.
fn missing_expectation(label: &str) -> &'static str {
    const BY_LABEL: &[(&str, &str)] = &[
        (
            "4-digit hex code",
            "expected 4 hexadecimal digits after `\\u`",
        ),
        (
            "8-digit hex code",
            "expected 8 hexadecimal digits after `\\U`",
        ),
    ];
    BY_LABEL
        .iter()
        .find(|(name, _)| label.contains(name))
        .map_or(
            "expected an argument (`name = value`), a block (`type \"label\" { ... }`) or the \
             end of the file; is a closing bracket left over?",
            |(_, expected)| expected,
        )
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = 1 + before.matches('\n').count();
    (line, 1 + before[line_start..].chars().count())
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Joins a path as the user named it with a relative part, and tidies `.` and `..` away
/// lexically, so that `./infra` and `modules/../modules/db` read as people expect.
pub(crate) fn display_join(base: &Path, relative: impl AsRef<Path>) -> PathBuf {
    normalize(&base.join(relative))
}

/// Removes `.` components and folds `..` into a preceding normal component.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(component),
            },
            other => parts.push(other),
        }
    }
    parts.iter().map(|c| c.as_os_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines() {
        let file = SourceFile::new(PathBuf::from("main.tf"), "a\nbc\n\nd");
        assert_eq!(file.line_of(0), 1);
        assert_eq!(file.line_of(2), 2);
        assert_eq!(file.line_of(3), 2);
        assert_eq!(file.line_of(5), 3);
        assert_eq!(file.line_of(6), 4);
    }

    #[test]
    fn paths_are_tidied_lexically() {
        assert_eq!(
            display_join(Path::new("."), "main.tf"),
            PathBuf::from("main.tf")
        );
        assert_eq!(
            display_join(Path::new("infra"), "./modules/db/../vol"),
            PathBuf::from("infra/modules/vol")
        );
        assert_eq!(
            display_join(Path::new("infra"), "../shared"),
            PathBuf::from("shared")
        );
        assert_eq!(display_join(Path::new(".."), "x"), PathBuf::from("../x"));
        assert_eq!(
            display_join(Path::new("/abs/dir"), "main.tf"),
            PathBuf::from("/abs/dir/main.tf")
        );
    }

    #[test]
    fn syntax_errors_name_file_line_and_what_was_expected() {
        let err = parse_text("x {\n  b = 1\n", Path::new("x/main.tf")).unwrap_err();
        assert_eq!(err.file, PathBuf::from("x/main.tf"));
        assert!(err.line.is_some());
        assert!(err.message.contains("expected"), "{}", err.message);
        assert!(
            err.message.contains("the file ends before"),
            "{}",
            err.message
        );

        let err = parse_text("a = 1\nb = = 2\nc = 3\n", Path::new("main.tf")).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(!err.message.contains("file ends"), "{}", err.message);
    }

    #[test]
    fn a_repeated_object_key_parses_and_keeps_its_line() {
        let text = "locals {\n  groups = {\n    web = {\n      port = 80\n      \"port\" = 8080\n\
                    \x20     port = 443\n    }\n  }\n}\nbroken = = 1\n";
        let err = parse_text(text, Path::new("main.tf")).unwrap_err();
        // The error after the renamed keys is reported at the column of the original text.
        assert_eq!((err.line, err.column), (Some(10), Some(10)), "{err}");

        let fixed = text.replace("broken = = 1", "fine = 1");
        let (file, body) = parse_text(&fixed, Path::new("main.tf")).expect("parses");
        let locals = body.get_blocks("locals").next().expect("locals");
        let groups = &locals.body.get_attribute("groups").expect("groups").value;
        let hcl_edit::expr::Expression::Object(groups) = groups else {
            panic!("groups is not an object");
        };
        let (_, web) = groups.iter().next().expect("web");
        let hcl_edit::expr::Expression::Object(web) = web.expr() else {
            panic!("web is not an object");
        };
        let keys: Vec<String> = web
            .iter()
            .map(|(key, _)| match key {
                hcl_edit::expr::ObjectKey::Ident(ident) => ident.as_str().to_string(),
                hcl_edit::expr::ObjectKey::Expression(expr) => {
                    expr.as_str().expect("a quoted key").to_string()
                }
            })
            .collect();
        let originals: Vec<&str> = keys.iter().map(|k| original_object_key(k)).collect();
        assert_eq!(originals, ["port", "port", "port"]);
        assert_eq!(keys[0], "port");
        assert_ne!(keys[1], keys[2]);

        let fine = body.get_attribute("fine").expect("fine");
        assert_eq!(file.line(hcl_edit::Span::span(fine)), Some(10));
    }

    #[test]
    fn only_the_reserved_form_names_a_renamed_key() {
        assert_eq!(original_object_key("__hipaa_redefined_12__port"), "port");
        assert_eq!(original_object_key("__hipaa_redefined_12__"), "");
        assert_eq!(
            original_object_key("__hipaa_redefined___port"),
            "__hipaa_redefined___port"
        );
        assert_eq!(
            original_object_key("__hipaa_redefined_7port"),
            "__hipaa_redefined_7port"
        );
        assert_eq!(original_object_key("port"), "port");
    }

    #[test]
    fn repeated_attributes_and_parenthesised_keys_stay_errors() {
        let err = parse_text("a = 1\na = 2\n", Path::new("main.tf")).unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("redefined attribute"), "{err}");

        let err = parse_text("x = { (k) = 1, (k) = 2 }\n", Path::new("main.tf")).unwrap_err();
        assert_eq!((err.line, err.column), (Some(1), Some(16)), "{err}");
        assert!(err.message.contains("redefined object key"), "{err}");
    }
}
