//! Reading the files a user names (source, variable, baseline, settings files), refusing what
//! would never end or never fit: a named pipe waits for a writer forever, a device such as
//! `/dev/zero` never runs out, and a multi-gigabyte file is no configuration.

use crate::error::InputError;
use std::path::Path;

/// Files larger than this are refused: no Terraform, variable, baseline or settings file is
/// anywhere near it.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The bytes of a regular file no larger than [`MAX_FILE_BYTES`]. `display` is the path as the
/// user named it; `expected` says what the file should have been ("a Terraform source file").
pub fn read_regular(path: &Path, display: &Path, expected: &str) -> Result<Vec<u8>, InputError> {
    let refuse = |why: String| InputError::new(display, format!("{why}; expected {expected}"));

    // Following links: a link to a device is as endless as the device.
    let meta =
        std::fs::metadata(path).map_err(|err| refuse(format!("cannot read the file: {err}")))?;
    if !meta.is_file() {
        return Err(refuse(
            "not a regular file (a directory, named pipe, socket or device)".to_string(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(refuse(format!("larger than {} MiB", MAX_FILE_BYTES >> 20)));
    }

    std::fs::read(path).map_err(|err| refuse(format!("cannot read the file: {err}")))
}

/// [`read_regular`] as UTF-8 text; bytes that are not UTF-8 are an error naming the file.
pub fn read_regular_text(
    path: &Path,
    display: &Path,
    expected: &str,
) -> Result<String, InputError> {
    let bytes = read_regular(path, display, expected)?;
    String::from_utf8(bytes).map_err(|err| {
        InputError::new(
            display,
            format!(
                "not valid UTF-8 text (byte {}); expected {expected}",
                err.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_before_reading() {
        for path in ["/dev/zero", "/"] {
            let error =
                read_regular(Path::new(path), Path::new(path), "a baseline file").unwrap_err();
            assert!(
                error.message.contains("not a regular file"),
                "{}",
                error.message
            );
            assert!(error.message.contains("expected a baseline file"));
        }
    }
}
