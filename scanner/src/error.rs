//! Input errors: what the user handed us that we cannot read, with where and what was expected.

use std::fmt;
use std::path::PathBuf;

/// An input that cannot be scanned. Always names the file; names the line and column where the
/// problem has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: PathBuf,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// What is wrong, in the user's terms, e.g. "expected `}` to close the block started on
    /// line 1".
    pub message: String,
}

impl InputError {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> InputError {
        InputError {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, line: u32, column: u32) -> InputError {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn at_line(mut self, line: u32) -> InputError {
        self.line = Some(line);
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// What a JSON reader's complaint leaves unsaid: what it expected instead. By the start of
/// serde_json's message; messages that already say "expected ..." are not listed.
const JSON_EXPECTATIONS: &[(&str, &str)] = &[
    (
        "EOF while parsing a string",
        "expected the closing `\"` of a string",
    ),
    ("EOF while parsing a list", "expected `]` to close a list"),
    (
        "EOF while parsing an object",
        "expected `}` to close an object",
    ),
    ("EOF while parsing a value", "expected a JSON value"),
    (
        "invalid escape",
        "expected one of the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
    ),
    (
        "invalid number",
        "expected a number such as 12, -3.5 or 1e9",
    ),
    (
        "number out of range",
        "expected a number a 64-bit float can hold",
    ),
    ("invalid unicode code point", "expected UTF-8 text"),
    (
        "control character",
        "expected control characters in strings to be escaped (\\n, \\t)",
    ),
    ("key must be a string", "expected a quoted key"),
    (
        "lone leading surrogate",
        "expected a second \\uXXXX escape completing the pair",
    ),
    (
        "unexpected end of hex escape",
        "expected 4 hexadecimal digits after \\u",
    ),
    ("trailing comma", "expected another element after the `,`"),
    (
        "trailing characters",
        "expected the file to end after its top-level value",
    ),
    (
        "recursion limit exceeded",
        "expected values nested at most 128 levels deep",
    ),
];

/// serde_json's message for a file that is not valid JSON, without the " at line L column C"
/// it appends (the error names the place itself), and with what was expected.
pub(crate) fn json_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let bare = match message.rfind(" at line ") {
        Some(at) if error.line() > 0 => &message[..at],
        _ => message.as_str(),
    };
    match JSON_EXPECTATIONS
        .iter()
        .find(|(start, _)| bare.starts_with(start))
    {
        Some((_, expected)) => format!("{bare}; {expected}"),
        None => bare.to_string(),
    }
}
