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
