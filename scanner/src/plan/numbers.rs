//! Numbers too large for a 64-bit float. Terraform's numbers have arbitrary precision, and
//! `terraform show -json` writes `1e400` as its 401 digits; serde_json refuses such a number
//! ("number out of range") and the model's numbers are `f64`. Such a number is read as
//! unknown, never as a guess, and a note names it and its place.
//!
//! serde_json's `arbitrary_precision` feature would take such numbers, but not as numbers: it
//! hands every number that is not a 64-bit integer to `deserialize_any` visitors as a map with
//! a private key, so every visitor of plan values would have to learn serde_json's internals,
//! and, Cargo features being shared, it would change the JSON of every other crate of the
//! workspace (the ledger's records among them). Its cost in time was within the noise on the
//! 10,000-resource benchmark plan (numbers are a small part of a plan), so speed is not why.
//!
//! Instead a plan is read as usual, at full speed; only when serde_json refuses a number as out
//! of range is the plan read again, through a [`NumberGuard`] that replaces each such number
//! with [`MARKER`] before serde_json sees it. A plan without such numbers pays nothing. The
//! guard follows every byte, so it is not put in front of every plan: on the same benchmark
//! plan (35 MB) it takes 74 ms alone, more than serde_json's 59 ms to skip through the plan
//! and about a quarter of a whole load.
//!
//! The marker is a list of `null` and a string no plan holds: the attribute reader takes it as
//! unknown ([`is_marker`]), and every field that expects a string, a number, an object or a
//! list of something else refuses it, as it refused the number; the error then names the
//! number ([`Replacements::original`]).
//!
//! Known shortcoming: a pipe cannot be read a second time, so a plan read from a pipe or
//! standard input that holds such a number where a value is read is refused, with how to scan
//! it from a file instead.

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;

/// What replaces a number too large for a float.
pub const MARKER: &[u8] = b"[null,\"\\u0000hipaa:number-too-large\"]";

/// The string of [`MARKER`] as read.
const MARKER_TEXT: &str = "\u{0}hipaa:number-too-large";

/// From here up a number counts as too large: the largest float less a sliver, so that
/// serde_json's own rounding near the limit cannot refuse a number this module let pass.
const TOO_LARGE: f64 = 1.797_693_134_862e308;

/// How many numbers one plan may have replaced. The next one is passed on as written, so that
/// serde_json refuses the plan: memory stays bounded whatever the plan holds.
pub const MAX_REPLACED: usize = 1000;

/// The longest number judged. A longer one (thousands of digits) is passed on as written, and
/// serde_json judges it.
pub const MAX_NUMBER_TEXT: usize = 4096;

/// How much of an object key is kept to name places, and how deep places are named.
const MAX_KEY_BYTES: usize = 256;
const MAX_DEPTH: usize = 256;

/// Bytes read from the source at a time.
const CHUNK: usize = 1 << 16;

/// True for what the attribute reader built from a [`MARKER`].
pub fn is_marker(items: &[crate::value::Value]) -> bool {
    use crate::value::Value;
    matches!(items, [Value::Null, Value::String(text)] if text == MARKER_TEXT)
}

/// True for a [`MARKER`] read as a `serde_json::Value`.
pub fn is_marker_json(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    matches!(value, Value::Array(items)
        if matches!(items.as_slice(), [Value::Null, Value::String(text)] if text == MARKER_TEXT))
}

/// One number that was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// The number as written, shortened when long.
    pub text: String,
    /// Its place as a JSON path, as serde_path_to_error writes one (`a.b[0].c`).
    pub path: String,
    pub line: u64,
    /// 1-based, in bytes, as serde_json counts columns.
    pub column: u64,
    /// Where the marker starts in what the reader saw.
    marker_column: u64,
    written_len: u64,
}

/// The numbers replaced in one reading of a plan, in order.
#[derive(Debug, Default)]
pub struct Replacements {
    pub list: Vec<Replaced>,
}

impl Replacements {
    /// The place in the plan as written of a place (line, column) in what the reader saw, and
    /// the number whose marker covers it, if one does.
    pub fn original(&self, line: u64, column: u64) -> (u64, Option<&Replaced>) {
        let mut shift: i64 = 0;
        for replaced in self.list.iter().filter(|r| r.line == line) {
            if column < replaced.marker_column {
                break;
            }
            if column < replaced.marker_column + MARKER.len() as u64 {
                return (replaced.column, Some(replaced));
            }
            shift += MARKER.len() as i64 - replaced.written_len as i64;
        }
        let column = i64::try_from(column).unwrap_or(i64::MAX) - shift;
        (u64::try_from(column.max(1)).unwrap_or(1), None)
    }
}

/// A reader of JSON that hands on what it reads with each number too large for a float
/// replaced by [`MARKER`], recording what it replaced and where. It follows strings, escapes,
/// objects and lists only as far as needed to tell numbers from text and to name places; the
/// JSON is checked by serde_json behind it.
pub struct NumberGuard<R> {
    inner: R,
    chunk: Box<[u8]>,
    out: Vec<u8>,
    out_at: usize,
    ended: bool,
    lexer: Lexer,
    replaced: Rc<RefCell<Replacements>>,
}

impl<R: Read> NumberGuard<R> {
    /// The guard, and where it records what it replaced.
    pub fn new(inner: R) -> (NumberGuard<R>, Rc<RefCell<Replacements>>) {
        let replaced = Rc::new(RefCell::new(Replacements::default()));
        let guard = NumberGuard {
            inner,
            chunk: vec![0; CHUNK].into_boxed_slice(),
            out: Vec::with_capacity(CHUNK),
            out_at: 0,
            ended: false,
            lexer: Lexer::default(),
            replaced: replaced.clone(),
        };
        (guard, replaced)
    }
}

impl<R: Read> Read for NumberGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_at == self.out.len() {
            if self.ended {
                return Ok(0);
            }
            self.out.clear();
            self.out_at = 0;
            let read = loop {
                match self.inner.read(&mut self.chunk) {
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            let mut replaced = self.replaced.borrow_mut();
            if read == 0 {
                self.lexer.finish(&mut self.out, &mut replaced);
                self.ended = true;
            } else {
                self.lexer
                    .feed(&self.chunk[..read], &mut self.out, &mut replaced);
            }
        }
        let count = buf.len().min(self.out.len() - self.out_at);
        buf[..count].copy_from_slice(&self.out[self.out_at..self.out_at + count]);
        self.out_at += count;
        Ok(count)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Between,
    InString,
    /// After a backslash in a string.
    Escape,
    InNumber,
}

/// An open object or list, for naming places.
enum Frame {
    Object {
        /// The key whose value is being read.
        key: Option<String>,
        /// The next string is a key.
        awaiting_key: bool,
    },
    List {
        index: u64,
    },
}

/// What the guard knows of where it is in the JSON.
struct Lexer {
    state: State,
    /// The number being read, while it is no longer than [`MAX_NUMBER_TEXT`].
    number: Vec<u8>,
    /// The number was too long to judge and is being passed on as read.
    number_passed: bool,
    number_line: u64,
    number_column: u64,
    number_marker_column: u64,
    line: u64,
    /// Bytes read and written on the current line.
    read_column: u64,
    written_column: u64,
    frames: Vec<Frame>,
    /// Open objects and lists past [`MAX_DEPTH`], counted only.
    deeper: usize,
    /// The string being read is an object key, kept here.
    in_key: bool,
    key: Vec<u8>,
}

impl Default for Lexer {
    fn default() -> Lexer {
        Lexer {
            state: State::Between,
            number: Vec::new(),
            number_passed: false,
            number_line: 1,
            number_column: 1,
            number_marker_column: 1,
            line: 1,
            read_column: 0,
            written_column: 0,
            frames: Vec::new(),
            deeper: 0,
            in_key: false,
            key: Vec::new(),
        }
    }
}

impl Lexer {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, replaced: &mut Replacements) {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::InString => {
                    let rest = &input[i..];
                    let Some(at) = memchr::memchr3(b'"', b'\\', b'\n', rest) else {
                        self.pass_text(rest, out);
                        return;
                    };
                    self.pass_text(&rest[..at], out);
                    let byte = rest[at];
                    i += at + 1;
                    self.pass(byte, out);
                    match byte {
                        b'"' => self.end_string(),
                        b'\\' => {
                            self.keep_key_byte(byte);
                            self.state = State::Escape;
                        }
                        _ => {}
                    }
                }
                State::Escape => {
                    let byte = input[i];
                    i += 1;
                    self.pass(byte, out);
                    self.keep_key_byte(byte);
                    self.state = State::InString;
                }
                State::InNumber => {
                    let byte = input[i];
                    if is_number_byte(byte) {
                        self.extend_number(byte, out);
                        i += 1;
                    } else {
                        // The byte after the number is read as any other.
                        self.end_number(out, replaced);
                    }
                }
                State::Between => {
                    let byte = input[i];
                    i += 1;
                    self.between(byte, out);
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>, replaced: &mut Replacements) {
        if self.state == State::InNumber {
            self.end_number(out, replaced);
        }
    }

    /// Hands on one byte as read.
    fn pass(&mut self, byte: u8, out: &mut Vec<u8>) {
        out.push(byte);
        if byte == b'\n' {
            self.line += 1;
            self.read_column = 0;
            self.written_column = 0;
        } else {
            self.read_column += 1;
            self.written_column += 1;
        }
    }

    /// Hands on the text of a string, which holds no line break.
    fn pass_text(&mut self, text: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(text);
        self.read_column += text.len() as u64;
        self.written_column += text.len() as u64;
        if self.in_key {
            let room = MAX_KEY_BYTES.saturating_sub(self.key.len());
            self.key.extend_from_slice(&text[..text.len().min(room)]);
        }
    }

    fn keep_key_byte(&mut self, byte: u8) {
        if self.in_key && self.key.len() < MAX_KEY_BYTES {
            self.key.push(byte);
        }
    }

    fn between(&mut self, byte: u8, out: &mut Vec<u8>) {
        match byte {
            b'"' => {
                self.pass(byte, out);
                self.state = State::InString;
                self.in_key = matches!(
                    self.frames.last(),
                    Some(Frame::Object {
                        awaiting_key: true,
                        ..
                    })
                ) && self.deeper == 0;
                self.key.clear();
            }
            b'-' | b'0'..=b'9' => {
                self.state = State::InNumber;
                self.number.clear();
                self.number.push(byte);
                self.number_passed = false;
                self.number_line = self.line;
                self.number_column = self.read_column + 1;
                self.number_marker_column = self.written_column + 1;
                self.read_column += 1;
            }
            b'{' => {
                self.pass(byte, out);
                self.open(Frame::Object {
                    key: None,
                    awaiting_key: true,
                });
            }
            b'[' => {
                self.pass(byte, out);
                self.open(Frame::List { index: 0 });
            }
            b'}' | b']' => {
                self.pass(byte, out);
                if self.deeper > 0 {
                    self.deeper -= 1;
                } else {
                    self.frames.pop();
                }
            }
            b':' => {
                self.pass(byte, out);
                if let (0, Some(Frame::Object { awaiting_key, .. })) =
                    (self.deeper, self.frames.last_mut())
                {
                    *awaiting_key = false;
                }
            }
            b',' => {
                self.pass(byte, out);
                if self.deeper == 0 {
                    match self.frames.last_mut() {
                        Some(Frame::Object { awaiting_key, .. }) => *awaiting_key = true,
                        Some(Frame::List { index }) => *index += 1,
                        None => {}
                    }
                }
            }
            _ => self.pass(byte, out),
        }
    }

    fn open(&mut self, frame: Frame) {
        if self.frames.len() < MAX_DEPTH && self.deeper == 0 {
            self.frames.push(frame);
        } else {
            self.deeper += 1;
        }
    }

    fn end_string(&mut self) {
        self.state = State::Between;
        if self.in_key {
            self.in_key = false;
            let key = String::from_utf8_lossy(&self.key).into_owned();
            if let Some(Frame::Object { key: slot, .. }) = self.frames.last_mut() {
                *slot = Some(key);
            }
        }
    }

    fn extend_number(&mut self, byte: u8, out: &mut Vec<u8>) {
        self.read_column += 1;
        if self.number_passed {
            self.written_column += 1;
            out.push(byte);
        } else if self.number.len() < MAX_NUMBER_TEXT {
            self.number.push(byte);
        } else {
            self.write_number(out);
            self.number_passed = true;
            self.written_column += 1;
            out.push(byte);
        }
    }

    fn write_number(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.number);
        self.written_column += self.number.len() as u64;
    }

    fn end_number(&mut self, out: &mut Vec<u8>, replaced: &mut Replacements) {
        self.state = State::Between;
        if self.number_passed {
            return;
        }
        if replaced.list.len() >= MAX_REPLACED || !is_too_large(&self.number) {
            self.write_number(out);
            return;
        }
        let text = String::from_utf8_lossy(&self.number);
        replaced.list.push(Replaced {
            text: shown(&text),
            path: self.path(),
            line: self.number_line,
            column: self.number_column,
            marker_column: self.number_marker_column,
            written_len: self.number.len() as u64,
        });
        out.extend_from_slice(MARKER);
        self.written_column += MARKER.len() as u64;
    }

    /// The place being read, as serde_path_to_error writes it.
    fn path(&self) -> String {
        let mut path = String::new();
        for frame in &self.frames {
            match frame {
                Frame::Object { key: Some(key), .. } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Frame::Object { key: None, .. } => {}
                Frame::List { index } => path.push_str(&format!("[{index}]")),
            }
        }
        if self.deeper > 0 {
            path.push_str(" ...");
        }
        path
    }
}

fn is_number_byte(byte: u8) -> bool {
    matches!(byte, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
}

/// True for a JSON number whose value no float holds. Text that is not a JSON number is left
/// for serde_json to refuse.
fn is_too_large(text: &[u8]) -> bool {
    if !is_json_number(text) {
        return false;
    }
    std::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .is_some_and(|value| value.abs() >= TOO_LARGE)
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_json_number(text: &[u8]) -> bool {
    let digits = |text: &[u8]| text.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut rest = text.strip_prefix(b"-").unwrap_or(text);
    let whole = digits(rest);
    if whole == 0 || (whole > 1 && rest[0] == b'0') {
        return false;
    }
    rest = &rest[whole..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = digits(fraction);
        if count == 0 {
            return false;
        }
        rest = &fraction[count..];
    }
    if let [b'e' | b'E', exponent @ ..] = rest {
        let exponent = exponent
            .strip_prefix(b"+")
            .or_else(|| exponent.strip_prefix(b"-"))
            .unwrap_or(exponent);
        let count = digits(exponent);
        if count == 0 {
            return false;
        }
        rest = &exponent[count..];
    }
    rest.is_empty()
}

/// A number as a note shows it: whole when short, else its start and its length.
fn shown(text: &str) -> String {
    const KEEP: usize = 24;
    if text.len() <= 2 * KEEP {
        return text.to_string();
    }
    format!("{}... ({} characters)", &text[..KEEP], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out one byte at a time, so that every token is split across reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((first, rest)), Some(slot)) => {
                    *slot = *first;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// What the guard hands on and replaces, read whole and a byte at a time, which must agree.
    fn guarded(json: &str) -> (String, Vec<Replaced>) {
        let read = |reader: Box<dyn Read>| {
            let (mut guard, replaced) = NumberGuard::new(reader);
            let mut out = String::new();
            guard.read_to_string(&mut out).unwrap();
            let list = replaced.borrow().list.clone();
            (out, list)
        };
        let whole = read(Box::new(json.as_bytes()));
        let trickled = read(Box::new(Trickle(json.as_bytes())));
        assert_eq!(whole, trickled);
        whole
    }

    #[test]
    fn only_numbers_too_large_are_replaced_wherever_reads_split_them() {
        let json =
            "{\"a\": [1, 1e400, \"1e400\", -2.5E+999, 1.5e308],\n \"b\\\"c\": {\"d\": 1E309}}";
        let (out, replaced) = guarded(json);
        let marker = std::str::from_utf8(MARKER).unwrap();
        assert_eq!(
            out,
            format!(
                "{{\"a\": [1, {marker}, \"1e400\", {marker}, 1.5e308],\n \"b\\\"c\": {{\"d\": \
                 {marker}}}}}"
            )
        );
        let places: Vec<(&str, &str, u64, u64)> = replaced
            .iter()
            .map(|r| (r.text.as_str(), r.path.as_str(), r.line, r.column))
            .collect();
        assert_eq!(
            places,
            [
                ("1e400", "a[1]", 1, 11),
                ("-2.5E+999", "a[3]", 1, 27),
                ("1E309", "b\\\"c.d", 2, 16),
            ]
        );
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(is_marker_json(&value["a"][1]));
        assert!(!is_marker_json(&value["a"][2]));
    }

    #[test]
    fn a_place_in_what_the_reader_saw_maps_back_to_the_plan() {
        let json = "{\"a\": 1e400, \"b\": 2e400, \"c\": x}";
        let (out, replaced) = guarded(json);
        let replacements = Replacements { list: replaced };
        let x_seen = out.find('x').unwrap() as u64 + 1;
        let x_written = json.find('x').unwrap() as u64 + 1;
        assert_eq!(replacements.original(1, x_seen), (x_written, None));

        let second_marker = out.rfind('[').unwrap() as u64 + 2;
        let (column, number) = replacements.original(1, second_marker);
        assert_eq!(column, json.find("2e400").unwrap() as u64 + 1);
        assert_eq!(number.map(|r| r.text.as_str()), Some("2e400"));
        assert_eq!(replacements.original(2, 5), (5, None));
    }

    #[test]
    fn text_that_is_not_a_json_number_is_left_to_the_parser() {
        for text in ["01e400", "1.e400", "1e", "--1e400", "1e400.5", "+1e400"] {
            assert!(!is_too_large(text.as_bytes()), "{text}");
        }
        for text in ["1e400", "-1e309", "1.8e308", "0.1e310", &"9".repeat(400)] {
            assert!(is_too_large(text.as_bytes()), "{text}");
        }
        for text in [
            "1e308",
            "1.7e308",
            "1e-400",
            "123456789012345678901234567890",
        ] {
            assert!(!is_too_large(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn long_numbers_are_shown_by_their_start_and_length() {
        assert_eq!(shown("1e400"), "1e400");
        let long = "9".repeat(400);
        assert_eq!(
            shown(&long),
            format!("{}... (400 characters)", "9".repeat(24))
        );
    }
}
