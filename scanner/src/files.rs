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

/// [`read_regular`] as UTF-8 text, without the byte order mark some editors write first; bytes
/// that are not UTF-8 are an error naming the file.
pub fn read_regular_text(
    path: &Path,
    display: &Path,
    expected: &str,
) -> Result<String, InputError> {
    let mut bytes = read_regular(path, display, expected)?;
    if let Some(encoding) = wide_encoding(&bytes) {
        return Err(InputError::new(
            display,
            format!("the file is {encoding} text; expected {expected} in UTF-8"),
        )
        .at(1, 1));
    }
    if bytes.starts_with(UTF8_BOM) {
        bytes.drain(..UTF8_BOM.len());
    }
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

/// The byte order mark that Windows editors and PowerShell 7 write at the start of UTF-8 text.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The UTF-16 or UTF-32 encoding that text starting with these bytes is in, if it is in one
/// (Windows PowerShell 5 writes UTF-16LE with `>`). Told by the byte order mark, or else by the
/// zero bytes that ASCII characters have in those encodings: `{"` is `7B 00 22 00` in UTF-16LE.
/// UTF-8 text has no zero byte in its first two, nor does any text Terraform reads.
pub fn wide_encoding(start: &[u8]) -> Option<&'static str> {
    match start {
        [0xFF, 0xFE, 0, 0, ..] => Some("UTF-32 (little-endian)"),
        [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32 (big-endian)"),
        [0xFF, 0xFE, ..] => Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => Some("UTF-16 (big-endian)"),
        [first, 0, 0, 0, ..] if *first != 0 => Some("UTF-32 (little-endian)"),
        [0, 0, 0, last, ..] if *last != 0 => Some("UTF-32 (big-endian)"),
        [first, 0, ..] if *first != 0 => Some("UTF-16 (little-endian)"),
        [0, second, ..] if *second != 0 => Some("UTF-16 (big-endian)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_encodings_are_told_with_and_without_a_byte_order_mark() {
        let text = "{\"a\": 1}";
        let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf32le: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let with_bom = |bom: &[u8], rest: &[u8]| [bom, rest].concat();

        let little16 = Some("UTF-16 (little-endian)");
        let big16 = Some("UTF-16 (big-endian)");
        assert_eq!(wide_encoding(&utf16le), little16);
        assert_eq!(wide_encoding(&with_bom(b"\xFF\xFE", &utf16le)), little16);
        assert_eq!(wide_encoding(&utf16be), big16);
        assert_eq!(wide_encoding(&with_bom(b"\xFE\xFF", &utf16be)), big16);
        assert_eq!(wide_encoding(&utf32le), Some("UTF-32 (little-endian)"));
        assert_eq!(
            wide_encoding(&with_bom(b"\xFF\xFE\x00\x00", &utf32le)),
            Some("UTF-32 (little-endian)")
        );

        for utf8 in [text.as_bytes(), b"\xEF\xBB\xBF{", "é".as_bytes(), b"{", b""] {
            assert_eq!(wide_encoding(utf8), None, "{utf8:?}");
        }
    }

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
