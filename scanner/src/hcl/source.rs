//! Reading and parsing source files, and turning byte offsets into line numbers.

use crate::error::InputError;
use hcl_edit::structure::Body;
use std::cell::RefCell;
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
    /// What the user should know about how the file was read (numbers read as unknown).
    pub notes: Vec<String>,
}

impl SourceFile {
    fn new(display: PathBuf, text: &str) -> SourceFile {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            display,
            line_starts,
            notes: Vec::new(),
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
/// Two things Terraform accepts the parser refuses, and each is mended in a copy of the text
/// that is parsed again (see [`Edits`]):
/// - An object constructor that names the same key twice (`{ a = 1, a = 2 }`, the last value
///   wins). On that error the later key is renamed to a reserved name that carries the original
///   one (see [`redefined_key_marker`]); the evaluator reads the original name back, so that
///   the later value replaces the earlier one. A key written as a parenthesised expression is
///   not renamed and stays a syntax error.
/// - A number too large for a 64-bit float (`1e400`; Terraform's numbers have arbitrary
///   precision). On a syntax error at or before such a number, it is replaced by a reserved name
///   (see [`is_number_too_large`]) that the evaluator reads as unknown, and a note names it.
///   Text that only looks like such a number, in a string or a comment, is put back once the
///   copy parses and the replacement turns out not to be an expression.
///
/// Line breaks are never inserted or removed, so every line number stays true; the columns of
/// errors found later are mapped back to the original text.
pub(crate) fn parse_text(text: &str, display: &Path) -> Result<(SourceFile, Body), InputError> {
    let mut edits = Edits::default();
    let mut current = std::borrow::Cow::Borrowed(text);
    loop {
        let err = match parse_within_budget(&current, display)? {
            Ok(body) => {
                let stray = edits.numbers_not_in(&body);
                if stray.is_empty() {
                    let mut file = SourceFile::new(display.to_path_buf(), &current);
                    file.notes = edits.number_notes(text, display);
                    return Ok((file, body));
                }
                edits.put_back(&stray);
                current = std::borrow::Cow::Owned(edits.apply(text));
                continue;
            }
            Err(err) => err,
        };
        let offset = err.location().offset();
        let redefined_key = err.message().contains("redefined object key");
        let mended = (redefined_key
            && edits.renamed < MAX_RENAMED_KEYS
            && edits.rename_key_at(&current, offset))
            || edits.replace_number_after(text, edits.original_offset(offset));
        if mended {
            current = std::borrow::Cow::Owned(edits.apply(text));
            continue;
        }
        return Err(syntax_error(
            text,
            display,
            &err,
            edits.original_offset(offset),
        ));
    }
}

/// How many repeated object keys one file may have renamed; each costs a parse of the file.
const MAX_RENAMED_KEYS: usize = 256;

/// How many numbers too large for a float one file may have replaced; each costs a parse.
const MAX_REPLACED_NUMBERS: usize = 256;

/// The reserved start of a renamed key: `__hipaa_redefined_<n>__<original key>`. `n` keeps
/// each renamed key unique within its object, so a key given three times parses too.
const REDEFINED_KEY_PREFIX: &str = "__hipaa_redefined_";

/// The reserved name that replaces the `n`th number too large for a float:
/// `__hipaa_number_too_large_<n>__`.
const NUMBER_TOO_LARGE_PREFIX: &str = "__hipaa_number_too_large_";

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

/// The reserved name that replaces the `n`th number too large for a float.
fn number_marker(n: usize) -> String {
    format!("{NUMBER_TOO_LARGE_PREFIX}{n}__")
}

/// Which replaced number a name stands for, if it is one of the reserved names.
fn number_marker_index(name: &str) -> Option<usize> {
    let digits = name
        .strip_prefix(NUMBER_TOO_LARGE_PREFIX)?
        .strip_suffix("__")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// True for the name that stands for a number too large for a float: its value is unknown.
pub(crate) fn is_number_too_large(name: &str) -> bool {
    number_marker_index(name).is_some()
}

/// One change made to a file's text.
struct Change {
    /// Where in the original text.
    at: usize,
    /// Bytes of the original text replaced.
    removed: usize,
    inserted: String,
    /// For a number replaced, which one (see [`number_marker`]).
    number: Option<usize>,
}

/// The changes made to a file's text so far, to build the copy that is parsed and to map its
/// offsets back to the original.
#[derive(Default)]
struct Edits {
    renamed: usize,
    numbers: usize,
    /// In the order made.
    changes: Vec<Change>,
    /// Where number-like text was found not to be a number (in a string or a comment).
    not_numbers: Vec<usize>,
}

impl Edits {
    /// The original text with every change made.
    fn apply(&self, text: &str) -> String {
        let mut sorted: Vec<&Change> = self.changes.iter().collect();
        sorted.sort_by_key(|change| change.at);
        let mut copy = String::with_capacity(text.len() + 64 * sorted.len());
        let mut from = 0;
        for change in sorted {
            // Changes do not overlap; were one to start inside another, it starts at its end.
            let at = change.at.max(from);
            copy.push_str(&text[from..at]);
            copy.push_str(&change.inserted);
            from = at.max(change.at + change.removed);
        }
        copy.push_str(&text[from..]);
        copy
    }

    /// Renames the object key that starts at `offset` of the copy (an identifier or a quoted
    /// string) by inserting the marker before its name; false when no such key starts there.
    fn rename_key_at(&mut self, copy: &str, offset: usize) -> bool {
        let Some(first) = copy.get(offset..).and_then(|rest| rest.chars().next()) else {
            return false;
        };
        let name_at = if first == '"' {
            offset + 1
        } else if first.is_alphabetic() || first == '_' {
            offset
        } else {
            return false;
        };

        self.renamed += 1;
        self.changes.push(Change {
            at: self.original_offset(name_at),
            removed: 0,
            inserted: redefined_key_marker(self.renamed),
            number: None,
        });
        true
    }

    /// Replaces the first number too large for a float that ends after `offset` of the
    /// original text and was not tried before; false when there is none.
    fn replace_number_after(&mut self, text: &str, offset: usize) -> bool {
        if self.numbers >= MAX_REPLACED_NUMBERS {
            return false;
        }
        let tried: Vec<usize> = self
            .changes
            .iter()
            .filter(|change| change.number.is_some())
            .map(|change| change.at)
            .chain(self.not_numbers.iter().copied())
            .collect();
        let Some((at, len)) =
            numbers_too_large(text).find(|&(at, len)| at + len > offset && !tried.contains(&at))
        else {
            return false;
        };

        self.numbers += 1;
        self.changes.push(Change {
            at,
            removed: len,
            inserted: number_marker(self.numbers),
            number: Some(self.numbers),
        });
        true
    }

    /// The numbers replaced whose reserved name is not an expression of the parsed copy.
    fn numbers_not_in(&self, body: &Body) -> Vec<usize> {
        let replaced = self.changes.iter().filter_map(|change| change.number);
        if replaced.clone().next().is_none() {
            return Vec::new();
        }
        let mut found = NumberMarkers::default();
        hcl_edit::visit::Visit::visit_body(&mut found, body);
        replaced.filter(|n| !found.0.contains(n)).collect()
    }

    /// Undoes the replacement of these numbers, and remembers not to try them again.
    fn put_back(&mut self, numbers: &[usize]) {
        let (stray, kept): (Vec<Change>, Vec<Change>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|change| change.number.is_some_and(|n| numbers.contains(&n)));
        self.changes = kept;
        self.not_numbers
            .extend(stray.iter().map(|change| change.at));
    }

    /// One note per number read as unknown.
    fn number_notes(&self, text: &str, display: &Path) -> Vec<String> {
        let mut replaced: Vec<&Change> = self
            .changes
            .iter()
            .filter(|change| change.number.is_some())
            .collect();
        replaced.sort_by_key(|change| change.at);
        replaced
            .into_iter()
            .map(|change| {
                let (line, column) = line_and_column(text, change.at);
                format!(
                    "{}:{line}:{column}: the number {} is too large for a 64-bit float; it was \
                     read as unknown",
                    display.display(),
                    shown_number(&text[change.at..change.at + change.removed])
                )
            })
            .collect()
    }

    /// The offset in the original text of an offset in the copy: an offset inside inserted
    /// text maps to where it was inserted.
    fn original_offset(&self, offset: usize) -> usize {
        let mut sorted: Vec<&Change> = self.changes.iter().collect();
        sorted.sort_by_key(|change| change.at);
        // How far the copy has moved ahead of the original up to here; the copy never moves
        // behind it by more than it has moved ahead, as no number is shorter than 1 byte.
        let mut ahead: isize = 0;
        for change in sorted {
            let copy_at = change.at.saturating_add_signed(ahead);
            if offset < copy_at {
                break;
            }
            if offset < copy_at + change.inserted.len() {
                return change.at;
            }
            ahead += change.inserted.len() as isize - change.removed as isize;
        }
        offset.saturating_add_signed(-ahead)
    }
}

/// The reserved names of replaced numbers that are expressions of a parsed body.
#[derive(Default)]
struct NumberMarkers(Vec<usize>);

impl hcl_edit::visit::Visit for NumberMarkers {
    fn visit_expr(&mut self, expr: &hcl_edit::expr::Expression) {
        if let hcl_edit::expr::Expression::Variable(name) = expr {
            if let Some(n) = number_marker_index(name.as_str()) {
                self.0.push(n);
            }
        }
        hcl_edit::visit::visit_expr(self, expr);
    }
}

/// Where the text has numbers too large for a 64-bit float, as (offset, length): digits with an
/// optional fraction and exponent, not following a letter, digit, `_` or `.`. Text inside
/// strings and comments, or after the `-` of a name (`a-1e400` is one name), is found too;
/// [`parse_text`] tells them apart by parsing.
fn numbers_too_large(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at;
            if !bytes[start].is_ascii_digit() || (start > 0 && is_name_byte(bytes[start - 1])) {
                at += 1;
                continue;
            }
            let len = number_len(&bytes[start..]);
            at = start + len.max(1);
            let number = &text[start..start + len];
            if number.parse::<f64>().is_ok_and(f64::is_infinite) {
                return Some((start, len));
            }
        }
        None
    })
}

/// True for text that is one number too large for a 64-bit float, such as a `--var` value.
pub(crate) fn is_too_large_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && number_len(digits.as_bytes()) == digits.len()
        && digits.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// The length of the number at the start of `bytes`: `[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn number_len(bytes: &[u8]) -> usize {
    let digits = |from: usize| {
        bytes[from.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut len = digits(0);
    if bytes.get(len) == Some(&b'.') && digits(len + 1) > 0 {
        len += 1 + digits(len + 1);
    }
    if matches!(bytes.get(len), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(len + 1), Some(b'+' | b'-')));
        let exponent = digits(len + 1 + sign);
        if exponent > 0 {
            len += 1 + sign + exponent;
        }
    }
    len
}

/// A number as a note shows it: whole when short, else its start and its length.
pub(crate) fn shown_number(text: &str) -> String {
    const KEEP: usize = 24;
    if text.len() <= 2 * KEEP {
        return text.to_string();
    }
    format!("{}... ({} characters)", &text[..KEEP], text.len())
}

/// A parse error as the user should read it: at the line and column of the original text.
/// What the parser makes of one file.
type Parsed = Result<Body, hcl_edit::parser::Error>;

/// A file's text to parse, and where to send the outcome.
type ParseJob = (String, mpsc::Sender<Parsed>);

thread_local! {
    /// The thread that parses this thread's files, one after another: starting a thread for
    /// each file of a large tree cost more than some of the parses.
    static PARSER: RefCell<Option<mpsc::Sender<ParseJob>>> = const { RefCell::new(None) };
}

/// Parses on the parsing thread and waits at most [`PARSE_BUDGET`] for it. A parse that
/// overruns is left to finish on its own, with its thread (the process exits with the error
/// meanwhile); the next file gets a new one.
fn parse_within_budget(text: &str, display: &Path) -> Result<Parsed, InputError> {
    let (reply, outcome) = mpsc::channel();
    let Some(parser) = parsing_thread() else {
        // No thread to spare: parse here, without a budget.
        return Ok(hcl_edit::parser::parse_body(text));
    };
    if parser.send((text.to_string(), reply)).is_err() {
        // The thread ended (the parser panicked on an earlier file): parse here.
        PARSER.with(|slot| slot.borrow_mut().take());
        return Ok(hcl_edit::parser::parse_body(text));
    }

    outcome.recv_timeout(PARSE_BUDGET).map_err(|_| {
        PARSER.with(|slot| slot.borrow_mut().take());
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

/// The parsing thread of the calling thread, started when there is none.
fn parsing_thread() -> Option<mpsc::Sender<ParseJob>> {
    PARSER.with(|slot| {
        if let Some(parser) = slot.borrow().as_ref() {
            return Some(parser.clone());
        }
        let (jobs, incoming) = mpsc::channel::<ParseJob>();
        std::thread::Builder::new()
            .name("parse".to_string())
            .spawn(move || {
                for (text, reply) in incoming {
                    // The receiver is gone only when the budget ran out; nothing to tell.
                    let _ = reply.send(hcl_edit::parser::parse_body(&text));
                }
            })
            .ok()?;
        *slot.borrow_mut() = Some(jobs.clone());
        Some(jobs)
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

    /// The attribute's expression in a parsed body.
    fn attribute<'b>(body: &'b Body, name: &str) -> &'b hcl_edit::expr::Expression {
        &body.get_attribute(name).expect("the attribute").value
    }

    #[test]
    fn numbers_too_large_for_a_float_become_reserved_names_with_a_note() {
        let huge = "9".repeat(320);
        let text =
            format!("a = 1e400\nb = [1, -1.5E+999]\nc = {huge}\nd = \"${{2e400}}\"\ne = 1e308\n");
        let (file, body) = parse_text(&text, Path::new("main.tf")).expect("parses");

        for name in ["a", "c"] {
            let hcl_edit::expr::Expression::Variable(marker) = attribute(&body, name) else {
                panic!("{name} is not a reserved name");
            };
            assert!(is_number_too_large(marker.as_str()), "{name}");
        }
        assert!(matches!(
            attribute(&body, "e"),
            hcl_edit::expr::Expression::Number(_)
        ));
        assert_eq!(
            file.notes,
            [
                "main.tf:1:5: the number 1e400 is too large for a 64-bit float; it was read as \
                 unknown"
                    .to_string(),
                "main.tf:2:10: the number 1.5E+999 is too large for a 64-bit float; it was read \
                 as unknown"
                    .to_string(),
                format!(
                    "main.tf:3:5: the number {}... (320 characters) is too large for a 64-bit \
                     float; it was read as unknown",
                    "9".repeat(24)
                ),
                "main.tf:4:8: the number 2e400 is too large for a 64-bit float; it was read as \
                 unknown"
                    .to_string(),
            ]
        );
    }

    #[test]
    fn number_like_text_in_strings_and_comments_is_left_as_written() {
        // The error at the huge number's line comes before the string and comment text that
        // looks like numbers; they are tried, found not to be expressions, and put back.
        let huge = "9".repeat(320);
        let text = format!("a = \"1e400\" # 1e999\nb = <<EOT\n2e400\nEOT\nc = {huge}\nd = \"x\"\n");
        let (file, body) = parse_text(&text, Path::new("main.tf")).expect("parses");

        let hcl_edit::expr::Expression::String(a) = attribute(&body, "a") else {
            panic!("a is not a string");
        };
        assert_eq!(a.as_str(), "1e400");
        let hcl_edit::expr::Expression::HeredocTemplate(b) = attribute(&body, "b") else {
            panic!("b is not a heredoc");
        };
        assert_eq!(b.template.to_string(), "2e400\n");
        assert_eq!(file.notes.len(), 1, "{:?}", file.notes);
        assert!(file.notes[0].starts_with("main.tf:5:5: the number 999"));
    }

    #[test]
    fn errors_after_replaced_numbers_keep_their_columns() {
        let text = "a = [1e400, 99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999, = ]\n";
        let err = parse_text(text, Path::new("main.tf")).unwrap_err();
        let column = text.find("= ]").unwrap() + 1;
        assert_eq!(err.line, Some(1), "{err}");
        assert_eq!(err.column, Some(column as u32), "{err}");
    }

    #[test]
    fn only_whole_numbers_too_large_are_too_large() {
        for text in ["1e400", "-1e400", "1.5e309", &"9".repeat(320)] {
            assert!(is_too_large_number(text), "{text}");
        }
        for text in ["1e300", "1e400x", "e400", "-", "", "1e-400", "0x1e400"] {
            assert!(!is_too_large_number(text), "{text}");
        }
        assert_eq!(number_marker_index(&number_marker(12)), Some(12));
        for name in [
            "__hipaa_number_too_large___",
            "__hipaa_number_too_large_1",
            "x",
        ] {
            assert!(!is_number_too_large(name), "{name}");
        }
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
