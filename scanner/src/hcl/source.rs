//! Reading and parsing source files, and turning byte offsets into line numbers.

use crate::error::InputError;
use hcl_edit::structure::Body;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

/// Files larger than this are refused: no Terraform file is anywhere near it, and reading one
/// would only exhaust memory.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

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

/// Reads a file as UTF-8 text, naming the file (and the line, for bad bytes) on failure.
pub(crate) fn read_text(path: &Path, display: &Path) -> Result<String, InputError> {
    let too_big = std::fs::metadata(path)
        .map(|meta| meta.len() > MAX_FILE_BYTES)
        .unwrap_or(false);
    if too_big {
        return Err(InputError::new(
            display,
            format!(
                "file is larger than {} MiB; expected a Terraform source file",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|err| InputError::new(display, format!("cannot read the file: {err}")))?;
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
pub(crate) fn parse_text(text: &str, display: &Path) -> Result<(SourceFile, Body), InputError> {
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => Ok((SourceFile::new(display.to_path_buf(), text), body)),
        Err(err) => {
            let location = err.location();
            let at_end = text
                .get(location.offset()..)
                .is_some_and(|rest| rest.trim().is_empty());
            let hint = match (at_end, err.message().contains("expected")) {
                (false, _) => "",
                (true, true) => " (the file ends before a `{`, `[` or `(` opened above is closed)",
                (true, false) => {
                    "; expected a closing `}`, `]` or `)` for one opened above before the file ends"
                }
            };
            Err(InputError::new(
                display,
                format!("HCL syntax error: {}{hint}", err.message()),
            )
            .at(to_u32(location.line()), to_u32(location.column())))
        }
    }
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
}
