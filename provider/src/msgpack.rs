//! The msgpack form of Terraform values (`DynamicValue.msgpack`), driven by the value's type:
//!
//! - null is `nil`; an unknown is any msgpack *extension* (plain unknowns use code 0, refined
//!   unknowns code 12 with a map of refinements);
//! - numbers are integers, floats or, when neither fits, decimal strings;
//! - lists, sets and tuples are arrays; maps and objects are maps, and an object carries every
//!   attribute of its type;
//! - a `dynamic` value is a two-element array: its type's JSON as *bin*, then the value.
//!
//! Decoding takes bytes from outside the process, so it never trusts them: lengths are checked
//! against the input before anything is allocated, and nesting is bounded so that a hostile
//! value cannot exhaust the stack.

use crate::diagnostics::AttributePath;
use crate::value::{Number, Type, Unknown, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Extension code of a refined unknown.
const REFINED_UNKNOWN: i8 = 12;
/// Refinement keys inside a refined unknown's map.
const REFINE_NOT_NULL: i64 = 1;
const REFINE_STRING_PREFIX: i64 = 2;

/// The deepest nesting of arrays, maps and extensions a value may have. This provider's
/// schemas nest three levels at most; the bound only has to stop a value deep enough to
/// overflow the stack of the thread decoding it.
pub const MAX_DEPTH: usize = 100;

/// The most items an array or map reserves room for before reading them. Reserving the
/// stated length spares the reallocations of a growing vector (values from Terraform hold a
/// handful of attributes), but a length is only checked against the bytes left, so a hostile
/// value could have every level of its nesting reserve that much at once.
const MAX_RESERVED_ITEMS: usize = 64;

/// A decoding failure, with the attribute path where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Where in the value the problem is; empty for the value as a whole.
    pub path: AttributePath,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.0.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

// ---------------------------------------------------------------------------------------------
// Encoding

pub fn encode(value: &Value, ty: &Type) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value, ty);
    out
}

fn write_value(out: &mut Vec<u8>, value: &Value, ty: &Type) {
    if let Type::Dynamic = ty {
        return write_dynamic(out, value);
    }
    match value {
        Value::Null => out.push(0xc0),
        Value::Unknown(unknown) => write_unknown(out, unknown),
        Value::Bool(flag) => out.push(if *flag { 0xc3 } else { 0xc2 }),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text),
        Value::List(items) => {
            write_array_len(out, items.len());
            for (index, item) in items.iter().enumerate() {
                write_value(out, item, element_type(ty, index));
            }
        }
        Value::Map(entries) => match ty {
            Type::Object(attributes) => {
                // Terraform rejects an object that lacks any attribute of its type.
                write_map_len(out, attributes.len());
                for (name, attribute_type) in attributes {
                    write_str(out, name);
                    write_value(
                        out,
                        entries.get(name).unwrap_or(&Value::Null),
                        attribute_type,
                    );
                }
            }
            _ => {
                write_map_len(out, entries.len());
                for (key, item) in entries {
                    write_str(out, key);
                    write_value(out, item, element_type(ty, 0));
                }
            }
        },
        Value::Dynamic(_, inner) => write_value(out, inner, ty),
    }
}

/// The type of element `index` of a collection or tuple type.
fn element_type(ty: &Type, index: usize) -> &Type {
    match ty {
        Type::List(element) | Type::Set(element) | Type::Map(element) => element,
        Type::Tuple(elements) => elements.get(index).unwrap_or(&Type::Dynamic),
        _ => &Type::Dynamic,
    }
}

fn write_dynamic(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Dynamic(concrete, inner) => {
            write_array_len(out, 2);
            write_bin(out, concrete.to_json().to_string().as_bytes());
            write_value(out, inner, concrete);
        }
        // Without a known concrete type, null and unknown travel bare.
        Value::Null => out.push(0xc0),
        Value::Unknown(unknown) => write_unknown(out, unknown),
        other => {
            let concrete = infer_type(other);
            write_array_len(out, 2);
            write_bin(out, concrete.to_json().to_string().as_bytes());
            write_value(out, other, &concrete);
        }
    }
}

/// The type a dynamic value is sent with when the provider made it without naming one.
fn infer_type(value: &Value) -> Type {
    match value {
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::Tuple(items.iter().map(infer_type).collect()),
        Value::Map(entries) => Type::Object(
            entries
                .iter()
                .map(|(key, item)| (key.clone(), infer_type(item)))
                .collect(),
        ),
        Value::Dynamic(ty, _) => ty.clone(),
        Value::Null | Value::Unknown(_) => Type::Dynamic,
    }
}

fn write_unknown(out: &mut Vec<u8>, unknown: &Unknown) {
    match &unknown.encoded {
        Some((code, payload)) => write_ext(out, *code, payload),
        // fixext1, code 0, one zero byte: the plain unknown Terraform itself writes.
        None => out.extend_from_slice(&[0xd4, 0x00, 0x00]),
    }
}

fn write_number(out: &mut Vec<u8>, number: &Number) {
    match number {
        Number::Int(n) => write_int(out, *n),
        Number::Float(x) if is_whole(*x) => write_int(out, *x as i64),
        Number::Float(x) => {
            out.push(0xcb);
            out.extend_from_slice(&x.to_be_bytes());
        }
        Number::Decimal(text) => write_str(out, text),
    }
}

/// Whether a float is an integer that an `i64` holds exactly.
fn is_whole(x: f64) -> bool {
    x.fract() == 0.0 && x.abs() < 9.0e15
}

fn write_int(out: &mut Vec<u8>, n: i64) {
    match n {
        0..=0x7f => out.push(n as u8),
        -32..=-1 => out.push(n as i8 as u8),
        // Any width is valid msgpack; the 8-byte form keeps the encoder simple.
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    let len = text.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(text.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    if len <= 0xff {
        out.extend_from_slice(&[0xc4, len as u8]);
    } else if len <= 0xffff {
        out.push(0xc5);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

fn write_array_len(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if len <= 0xffff {
        out.push(0xdc);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn write_map_len(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0xde);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn write_ext(out: &mut Vec<u8>, code: i8, payload: &[u8]) {
    let fixed = match payload.len() {
        1 => Some(0xd4),
        2 => Some(0xd5),
        4 => Some(0xd6),
        8 => Some(0xd7),
        16 => Some(0xd8),
        _ => None,
    };
    match fixed {
        Some(marker) => out.push(marker),
        None if payload.len() <= 0xff => out.extend_from_slice(&[0xc7, payload.len() as u8]),
        None if payload.len() <= 0xffff => {
            out.push(0xc8);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        None => {
            out.push(0xc9);
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        }
    }
    out.push(code as u8);
    out.extend_from_slice(payload);
}

// ---------------------------------------------------------------------------------------------
// Decoding: bytes to an untyped tree, then the tree to a value of the expected type.

/// A msgpack item before types are applied.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Bin(Vec<u8>),
    Array(Vec<Raw>),
    Map(Vec<(Raw, Raw)>),
    Ext(i8, Vec<u8>),
}

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut reader = Reader::new(bytes);
    let raw = reader.item().map_err(|message| DecodeError {
        path: AttributePath::default(),
        message,
    })?;
    if reader.at != bytes.len() {
        return Err(DecodeError {
            path: AttributePath::default(),
            message: format!(
                "{} bytes left over after the value",
                bytes.len() - reader.at
            ),
        });
    }
    typed(raw, ty, &Place::Root)
}

/// Where in the value being decoded an item sits, as a chain of borrowed steps up to the
/// root. Building an [`AttributePath`] for every attribute would cost allocations on each call
/// from Terraform; the chain costs none and becomes a path only when an item is refused.
enum Place<'a> {
    Root,
    Attribute(&'a Place<'a>, &'a str),
    Index(&'a Place<'a>, usize),
    Key(&'a Place<'a>, &'a str),
}

impl Place<'_> {
    fn path(&self) -> AttributePath {
        match self {
            Place::Root => AttributePath::default(),
            Place::Attribute(parent, name) => parent.path().attribute(name),
            Place::Index(parent, index) => parent.path().at_index(*index),
            Place::Key(parent, key) => parent.path().at_key(key),
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// How many arrays, maps and extensions enclose the item being read.
    depth: usize,
}

impl Reader<'_> {
    fn new(bytes: &[u8]) -> Reader<'_> {
        Reader {
            bytes,
            at: 0,
            depth: 0,
        }
    }

    /// Reads the items inside an array or map one level deeper.
    fn nested<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!(
                "value nested deeper than {MAX_DEPTH} levels at byte {}",
                self.at
            ));
        }
        self.depth += 1;
        let result = read(self);
        self.depth -= 1;
        result
    }

    fn take(&mut self, count: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(count)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| format!("value ends early at byte {}", self.at))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, width: usize) -> Result<u64, String> {
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte)))
    }

    fn item(&mut self) -> Result<Raw, String> {
        let marker = self.byte()?;
        match marker {
            0x00..=0x7f => Ok(Raw::Int(i64::from(marker))),
            0x80..=0x8f => self.map(usize::from(marker & 0x0f)),
            0x90..=0x9f => self.array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f)),
            0xc0 => Ok(Raw::Nil),
            0xc2 => Ok(Raw::Bool(false)),
            0xc3 => Ok(Raw::Bool(true)),
            0xc4..=0xc6 => {
                let len = self.uint(1 << (marker - 0xc4))? as usize;
                Ok(Raw::Bin(self.take(len)?.to_vec()))
            }
            0xc7..=0xc9 => {
                let len = self.uint(1 << (marker - 0xc7))? as usize;
                self.ext(len)
            }
            0xca => Ok(Raw::Float(f64::from(f32::from_bits(self.uint(4)? as u32)))),
            0xcb => Ok(Raw::Float(f64::from_bits(self.uint(8)?))),
            0xcc..=0xcf => Ok(Raw::UInt(self.uint(1 << (marker - 0xcc))?)),
            0xd0 => Ok(Raw::Int(i64::from(self.uint(1)? as u8 as i8))),
            0xd1 => Ok(Raw::Int(i64::from(self.uint(2)? as u16 as i16))),
            0xd2 => Ok(Raw::Int(i64::from(self.uint(4)? as u32 as i32))),
            0xd3 => Ok(Raw::Int(self.uint(8)? as i64)),
            0xd4..=0xd8 => self.ext(1 << (marker - 0xd4)),
            0xd9..=0xdb => {
                let len = self.uint(1 << (marker - 0xd9))? as usize;
                self.str(len)
            }
            0xdc | 0xdd => {
                let len = self.uint(if marker == 0xdc { 2 } else { 4 })? as usize;
                self.array(len)
            }
            0xde | 0xdf => {
                let len = self.uint(if marker == 0xde { 2 } else { 4 })? as usize;
                self.map(len)
            }
            0xe0..=0xff => Ok(Raw::Int(i64::from(marker as i8))),
            0xc1 => Err(format!(
                "reserved msgpack byte 0xc1 at byte {}",
                self.at - 1
            )),
        }
    }

    fn str(&mut self, len: usize) -> Result<Raw, String> {
        let start = self.at;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec())
            .map(Raw::Str)
            .map_err(|_| format!("string at byte {start} is not UTF-8"))
    }

    fn ext(&mut self, len: usize) -> Result<Raw, String> {
        let code = self.byte()? as i8;
        Ok(Raw::Ext(code, self.take(len)?.to_vec()))
    }

    fn array(&mut self, len: usize) -> Result<Raw, String> {
        // Every item takes at least one byte, so a length beyond the input is corrupt;
        // checking first keeps a hostile length from allocating.
        if len > self.bytes.len() - self.at {
            return Err(format!(
                "array of {len} items cannot fit at byte {}",
                self.at
            ));
        }
        self.nested(|reader| {
            let mut items = Vec::with_capacity(len.min(MAX_RESERVED_ITEMS));
            for _ in 0..len {
                items.push(reader.item()?);
            }
            Ok(Raw::Array(items))
        })
    }

    fn map(&mut self, len: usize) -> Result<Raw, String> {
        if len > self.bytes.len() - self.at {
            return Err(format!(
                "map of {len} entries cannot fit at byte {}",
                self.at
            ));
        }
        self.nested(|reader| {
            let mut entries = Vec::with_capacity(len.min(MAX_RESERVED_ITEMS));
            for _ in 0..len {
                entries.push((reader.item()?, reader.item()?));
            }
            Ok(Raw::Map(entries))
        })
    }
}

fn describe(raw: &Raw) -> &'static str {
    match raw {
        Raw::Nil => "nil",
        Raw::Bool(_) => "a bool",
        Raw::Int(_) | Raw::UInt(_) => "an integer",
        Raw::Float(_) => "a float",
        Raw::Str(_) => "a string",
        Raw::Bin(_) => "bytes",
        Raw::Array(_) => "an array",
        Raw::Map(_) => "a map",
        Raw::Ext(..) => "an extension",
    }
}

fn typed(raw: Raw, ty: &Type, place: &Place) -> Result<Value, DecodeError> {
    let fail = |message: String| DecodeError {
        path: place.path(),
        message,
    };
    match (ty, raw) {
        (_, Raw::Nil) => Ok(Value::Null),
        (_, Raw::Ext(code, payload)) => Ok(Value::Unknown(read_unknown(code, payload))),
        (Type::Dynamic, Raw::Array(mut parts)) if parts.len() == 2 => {
            let inner = parts.pop().unwrap_or(Raw::Nil);
            let type_json = match parts.pop() {
                Some(Raw::Bin(bytes)) => bytes,
                Some(Raw::Str(text)) => text.into_bytes(),
                _ => return Err(fail("dynamic value without its type".to_string())),
            };
            let json: serde_json::Value = serde_json::from_slice(&type_json)
                .map_err(|e| fail(format!("dynamic type is not JSON: {e}")))?;
            let concrete = Type::from_json(&json).map_err(fail)?;
            let value = typed(inner, &concrete, place)?;
            Ok(Value::Dynamic(concrete, Box::new(value)))
        }
        (Type::Dynamic, other) => Err(fail(format!(
            "expected a [type, value] pair for a dynamic value, found {}",
            describe(&other)
        ))),
        (Type::String, Raw::Str(text)) => Ok(Value::String(text)),
        (Type::Bool, Raw::Bool(flag)) => Ok(Value::Bool(flag)),
        (Type::Number, Raw::Int(n)) => Ok(Value::Number(Number::Int(n))),
        (Type::Number, Raw::UInt(n)) => Ok(Value::Number(match i64::try_from(n) {
            Ok(n) => Number::Int(n),
            Err(_) => Number::Decimal(n.to_string()),
        })),
        (Type::Number, Raw::Float(x)) if x.is_nan() => Err(fail(
            "NaN is not a number; expected a finite number or an infinity".into(),
        )),
        // A whole float is the same number as the integer, and is sent back as one.
        (Type::Number, Raw::Float(x)) if is_whole(x) => Ok(Value::Number(Number::Int(x as i64))),
        (Type::Number, Raw::Float(x)) => Ok(Value::Number(Number::Float(x))),
        (Type::Number, Raw::Str(text)) => {
            if is_decimal(&text) {
                Ok(Value::Number(Number::Decimal(text)))
            } else {
                Err(fail(format!("{text:?} is not a number")))
            }
        }
        (Type::List(element) | Type::Set(element), Raw::Array(items)) => {
            let mut values = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                values.push(typed(item, element, &Place::Index(place, index))?);
            }
            Ok(Value::List(values))
        }
        (Type::Tuple(elements), Raw::Array(items)) => {
            if items.len() != elements.len() {
                return Err(fail(format!(
                    "tuple of {} elements, found {}",
                    elements.len(),
                    items.len()
                )));
            }
            items
                .into_iter()
                .zip(elements)
                .enumerate()
                .map(|(index, (item, ty))| typed(item, ty, &Place::Index(place, index)))
                .collect::<Result<_, _>>()
                .map(Value::List)
        }
        (Type::Map(element), Raw::Map(entries)) => {
            let mut map = BTreeMap::new();
            for (key, item) in entries {
                let Raw::Str(key) = key else {
                    return Err(fail("map key is not a string".to_string()));
                };
                let value = typed(item, element, &Place::Key(place, &key))?;
                map.insert(key, value);
            }
            Ok(Value::Map(map))
        }
        (Type::Object(attributes), Raw::Map(entries)) => {
            let mut object = BTreeMap::new();
            for (key, item) in entries {
                let Raw::Str(name) = key else {
                    return Err(fail("object attribute name is not a string".to_string()));
                };
                let Some(attribute_type) = attributes.get(&name) else {
                    return Err(fail(format!("unexpected attribute {name:?}")));
                };
                let value = typed(item, attribute_type, &Place::Attribute(place, &name))?;
                object.insert(name, value);
            }
            // Terraform always sends every attribute; fill any gap with null rather than
            // failing, so an older sender does not break the provider.
            for name in attributes.keys() {
                if !object.contains_key(name) {
                    object.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Map(object))
        }
        (ty, other) => Err(fail(format!(
            "expected {}, found {}",
            ty.to_json(),
            describe(&other)
        ))),
    }
}

fn is_decimal(text: &str) -> bool {
    let digits = text.trim_start_matches('-');
    !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
}

/// Reads what a refined unknown promises; unknown keys and malformed payloads are ignored,
/// because an unknown stays an unknown whatever its refinements say.
fn read_unknown(code: i8, payload: Vec<u8>) -> Unknown {
    let mut unknown = Unknown {
        encoded: Some((code, payload.clone())),
        ..Unknown::default()
    };
    if code != REFINED_UNKNOWN {
        return unknown;
    }
    let mut reader = Reader::new(&payload);
    if let Ok(Raw::Map(entries)) = reader.item() {
        for (key, value) in entries {
            match (key, value) {
                (Raw::Int(REFINE_NOT_NULL), Raw::Bool(flag)) => unknown.definitely_not_null = flag,
                (Raw::Int(REFINE_STRING_PREFIX), Raw::Str(prefix)) => {
                    unknown.string_prefix = Some(prefix)
                }
                _ => {}
            }
        }
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(fields: &[(&str, Type)]) -> Type {
        Type::Object(
            fields
                .iter()
                .map(|(name, ty)| (name.to_string(), ty.clone()))
                .collect(),
        )
    }

    #[test]
    fn null_and_plain_unknown_bytes() {
        assert_eq!(encode(&Value::Null, &Type::String), vec![0xc0]);
        assert_eq!(encode(&Value::unknown(), &Type::String), vec![0xd4, 0, 0]);
        assert_eq!(decode(&[0xc0], &Type::Number).unwrap(), Value::Null);
        assert!(decode(&[0xd4, 0, 0], &Type::Number).unwrap().is_unknown());
    }

    #[test]
    fn any_extension_code_is_unknown() {
        for code in [0u8, 1, 12, 0x7f] {
            let value = decode(&[0xd4, code, 0], &Type::String).unwrap();
            assert!(value.is_unknown(), "ext code {code}");
        }
    }

    #[test]
    fn refined_unknown_is_read_and_sent_back_unchanged() {
        // ext8, 9 payload bytes, code 12: {1: true, 2: "lic-"}
        let bytes = [
            0xc7, 0x09, 0x0c, 0x82, 0x01, 0xc3, 0x02, 0xa4, b'l', b'i', b'c', b'-',
        ];
        let value = decode(&bytes, &Type::String).unwrap();
        let Value::Unknown(unknown) = &value else {
            panic!("expected unknown, got {value:?}");
        };
        assert!(unknown.definitely_not_null);
        assert_eq!(unknown.string_prefix.as_deref(), Some("lic-"));
        assert_eq!(encode(&value, &Type::String), bytes.to_vec());
    }

    #[test]
    fn nesting_beyond_the_limit_and_nan_are_refused() {
        let mut deep = vec![0x91; MAX_DEPTH + 1];
        deep.push(0xc0);
        let error = decode(&deep, &Type::Dynamic).unwrap_err();
        assert!(error.message.contains("nested deeper"), "{error}");
        assert!(decode(&deep[1..], &Type::Dynamic).is_err_and(|e| !e.message.contains("deeper")));

        let mut nan = vec![0xcb];
        nan.extend_from_slice(&f64::NAN.to_be_bytes());
        assert!(decode(&nan, &Type::Number)
            .unwrap_err()
            .message
            .contains("NaN"));

        let mut whole = vec![0xcb];
        whole.extend_from_slice(&(-3.0f64).to_be_bytes());
        assert_eq!(decode(&whole, &Type::Number).unwrap(), Value::int(-3));
    }

    #[test]
    fn numbers_in_every_form() {
        assert_eq!(decode(&[0x2a], &Type::Number).unwrap(), Value::int(42));
        assert_eq!(decode(&[0xff], &Type::Number).unwrap(), Value::int(-1));
        assert_eq!(
            decode(&[0xd0, 0x80], &Type::Number).unwrap(),
            Value::int(-128)
        );
        let big = [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            decode(&big, &Type::Number).unwrap(),
            Value::Number(Number::Decimal("18446744073709551615".to_string()))
        );
        let mut float = vec![0xcb];
        float.extend_from_slice(&1.5f64.to_be_bytes());
        assert_eq!(
            decode(&float, &Type::Number).unwrap(),
            Value::Number(Number::Float(1.5))
        );
        let decimal = encode(
            &Value::Number(Number::Decimal("1e400".to_string())),
            &Type::Number,
        );
        assert_eq!(decode(&decimal, &Type::Number).unwrap().as_i64(), None);
        assert_eq!(
            decode(&decimal, &Type::Number).unwrap(),
            Value::Number(Number::Decimal("1e400".to_string()))
        );
        assert!(decode(&[0xa3, b'a', b'b', b'c'], &Type::Number).is_err());
    }

    #[test]
    fn integers_round_trip_at_the_marker_edges() {
        for n in [0, 127, 128, -32, -33, 255, 65_536, i64::MAX, i64::MIN] {
            let bytes = encode(&Value::int(n), &Type::Number);
            assert_eq!(decode(&bytes, &Type::Number).unwrap(), Value::int(n), "{n}");
        }
    }

    #[test]
    fn objects_carry_every_attribute() {
        let ty = object(&[("a", Type::String), ("b", Type::Bool)]);
        let mut fields = BTreeMap::new();
        fields.insert("a".to_string(), Value::string("x"));
        let bytes = encode(&Value::Map(fields), &ty);
        assert_eq!(bytes, vec![0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0]);
        let decoded = decode(&bytes, &ty).unwrap();
        assert_eq!(decoded.as_map().unwrap()["b"], Value::Null);
    }

    #[test]
    fn unexpected_attribute_is_an_error_with_its_path() {
        let ty = object(&[("outer", object(&[("a", Type::String)]))]);
        let bytes = [
            0x81, 0xa5, b'o', b'u', b't', b'e', b'r', 0x81, 0xa1, b'z', 0xc0,
        ];
        let error = decode(&bytes, &ty).unwrap_err();
        assert_eq!(error.path, AttributePath::root("outer"));
        assert!(error.message.contains("\"z\""), "{}", error.message);
    }

    #[test]
    fn dynamic_values_travel_with_their_type() {
        let value = Value::Dynamic(
            Type::list_of(Type::String),
            Box::new(Value::List(vec![Value::string("a")])),
        );
        let bytes = encode(&value, &Type::Dynamic);
        let type_json = br#"["list","string"]"#;
        let mut expected = vec![0x92, 0xc4, type_json.len() as u8];
        expected.extend_from_slice(type_json);
        expected.extend_from_slice(&[0x91, 0xa1, b'a']);
        assert_eq!(bytes, expected);
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), value);
    }

    #[test]
    fn long_strings_and_collections_round_trip() {
        let long = "x".repeat(70_000);
        let ty = Type::list_of(Type::String);
        let value = Value::List(vec![Value::string(&long); 20]);
        assert_eq!(decode(&encode(&value, &ty), &ty).unwrap(), value);
    }

    #[test]
    fn truncated_and_trailing_input_are_errors() {
        assert!(decode(&[0xa3, b'a'], &Type::String).is_err());
        assert!(decode(&[0xc0, 0xc0], &Type::String).is_err());
        assert!(decode(
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            &Type::list_of(Type::String)
        )
        .is_err());
        assert!(decode(&[], &Type::String).is_err());
    }

    #[test]
    fn nesting_is_bounded_without_exhausting_the_stack() {
        let ty = Type::list_of(Type::list_of(Type::String));
        let mut deep = vec![0x91; 1_000_000];
        deep.push(0xc0);
        let error = decode(&deep, &ty).unwrap_err();
        assert!(error.message.contains("nested deeper than 100"), "{error}");

        let mut deep_map = [0x81, 0xa1, b'k'].repeat(200_000);
        deep_map.push(0xc0);
        let error = decode(&deep_map, &Type::Map(Box::new(Type::String))).unwrap_err();
        assert!(error.message.contains("nested deeper"), "{error}");

        let mut shallow = vec![0x91, 0x91];
        shallow.extend_from_slice(&[0xa1, b'x']);
        assert!(decode(&shallow, &ty).is_ok());
    }

    #[test]
    fn a_wrong_type_deep_inside_names_its_path() {
        let ty = object(&[("tags", Type::Map(Box::new(Type::list_of(Type::String))))]);
        // {"tags": {"env": ["a", 7]}}
        let bytes = [
            0x81, 0xa4, b't', b'a', b'g', b's', 0x81, 0xa3, b'e', b'n', b'v', 0x92, 0xa1, b'a',
            0x07,
        ];
        let error = decode(&bytes, &ty).unwrap_err();
        assert_eq!(
            error.path,
            AttributePath::root("tags").at_key("env").at_index(1)
        );
        assert_eq!(
            error.to_string(),
            "at tags[\"env\"][1]: expected \"string\", found an integer"
        );
    }

    #[test]
    fn json_state_fills_missing_attributes_with_null() {
        let ty = object(&[("a", Type::String), ("n", Type::Number)]);
        let json: serde_json::Value = serde_json::from_str(r#"{"n": 3}"#).unwrap();
        let value = Value::from_json(&json, &ty).unwrap();
        assert_eq!(value.as_map().unwrap()["a"], Value::Null);
        assert_eq!(value.as_map().unwrap()["n"], Value::int(3));
    }
}
