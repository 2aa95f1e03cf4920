//! Terraform's built-in functions, as a table by name.
//!
//! A function is applied only to arguments known at the top level; an unknown, sensitive or
//! erroneous argument decides the result, and a choice between values is applied branch by
//! branch (see [`lift`]). A function missing from the table returns unknown: the scanner never
//! guesses what a function it does not implement would return.

use super::eval::{blocked_like, lift, Shared};
use super::meter::{self, Exceeded};
use super::val::{format_number, Kind, Refs, Val, MAX_STRING_BYTES};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The most elements a function may build (`range`, `chunklist`...), so that a configuration
/// cannot make the scanner allocate without bound.
const MAX_ELEMENTS: usize = 1 << 20;

/// Where the references of a result come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The result is computed from every argument: it depends on all their references.
    Computed,
    /// The result is made of the arguments' elements, which keep their own references; only
    /// the arguments' top-level references are added.
    Structural,
}

type Body = fn(&[Val]) -> Result<Val, Val>;

struct Function {
    name: &'static str,
    min_args: usize,
    /// `None` for variadic functions.
    max_args: Option<usize>,
    shape: Shape,
    body: Body,
}

const fn f(name: &'static str, args: usize, shape: Shape, body: Body) -> Function {
    Function {
        name,
        min_args: args,
        max_args: Some(args),
        shape,
        body,
    }
}

const fn variadic(name: &'static str, min_args: usize, shape: Shape, body: Body) -> Function {
    Function {
        name,
        min_args,
        max_args: None,
        shape,
        body,
    }
}

const fn between(
    name: &'static str,
    min_args: usize,
    max_args: usize,
    shape: Shape,
    body: Body,
) -> Function {
    Function {
        name,
        min_args,
        max_args: Some(max_args),
        shape,
        body,
    }
}

use Shape::{Computed as C, Structural as S};

/// Every function evaluated, sorted by name (a test checks the order, lookups rely on it).
static FUNCTIONS: &[Function] = &[
    f("abs", 1, C, |a| Ok(Val::number(number(&a[0])?.abs()))),
    f("abspath", 1, C, abspath),
    f("alltrue", 1, C, alltrue),
    f("anytrue", 1, C, anytrue),
    f("base64decode", 1, C, base64decode),
    f("base64encode", 1, C, |a| {
        Ok(Val::string(base64(text(&a[0])?.as_bytes())))
    }),
    f("base64sha256", 1, C, |a| {
        Ok(Val::string(base64(&Sha256::digest(text(&a[0])?))))
    }),
    f("base64sha512", 1, C, |a| {
        Ok(Val::string(base64(&Sha512::digest(text(&a[0])?))))
    }),
    f("basename", 1, C, |a| {
        Ok(Val::string(basename(&text(&a[0])?)))
    }),
    f("ceil", 1, C, |a| Ok(Val::number(number(&a[0])?.ceil()))),
    f("chomp", 1, C, |a| {
        Ok(Val::string(text(&a[0])?.trim_end_matches(['\n', '\r'])))
    }),
    f("chunklist", 2, S, chunklist),
    variadic("coalesce", 1, S, coalesce),
    variadic("coalescelist", 1, S, coalescelist),
    f("compact", 1, S, compact),
    variadic("concat", 0, S, concat),
    f("contains", 2, C, contains),
    f("dirname", 1, C, |a| Ok(Val::string(dirname(&text(&a[0])?)))),
    f("distinct", 1, S, distinct),
    f("element", 2, S, element),
    f("endswith", 2, C, |a| {
        Ok(Val::bool(text(&a[0])?.ends_with(text(&a[1])?.as_str())))
    }),
    f("flatten", 1, S, flatten),
    f("floor", 1, C, |a| Ok(Val::number(number(&a[0])?.floor()))),
    variadic("format", 1, C, format),
    variadic("formatlist", 1, C, formatlist),
    f("indent", 2, C, indent),
    f("index", 2, C, index),
    variadic("join", 2, C, join),
    f("jsondecode", 1, C, jsondecode),
    f("jsonencode", 1, C, jsonencode),
    f("keys", 1, C, keys),
    f("length", 1, C, length),
    f("log", 2, C, |a| {
        Ok(Val::number(number(&a[0])?.ln() / number(&a[1])?.ln()))
    }),
    between("lookup", 2, 3, S, lookup),
    f("lower", 1, C, |a| {
        Ok(Val::string(text(&a[0])?.to_lowercase()))
    }),
    f("matchkeys", 3, S, matchkeys),
    variadic("max", 1, C, |a| extreme(a, f64::max)),
    f("md5", 1, C, |a| {
        Ok(Val::string(hex(&Md5::digest(text(&a[0])?))))
    }),
    variadic("merge", 0, S, merge),
    variadic("min", 1, C, |a| extreme(a, f64::min)),
    f("one", 1, S, one),
    f("parseint", 2, C, parseint),
    f("pathexpand", 1, C, pathexpand),
    f("pow", 2, C, |a| {
        Ok(Val::number(number(&a[0])?.powf(number(&a[1])?)))
    }),
    between("range", 1, 3, C, range),
    f("replace", 3, C, replace),
    f("reverse", 1, S, |a| {
        Ok(Val::list(list(&a[0])?.iter().rev().cloned().collect()))
    }),
    variadic("setintersection", 1, S, setintersection),
    variadic("setproduct", 1, S, setproduct),
    variadic("setsubtract", 2, S, setsubtract),
    variadic("setunion", 1, S, setunion),
    f("sha1", 1, C, |a| {
        Ok(Val::string(hex(&Sha1::digest(text(&a[0])?))))
    }),
    f("sha256", 1, C, |a| {
        Ok(Val::string(hex(&Sha256::digest(text(&a[0])?))))
    }),
    f("sha512", 1, C, |a| {
        Ok(Val::string(hex(&Sha512::digest(text(&a[0])?))))
    }),
    f("signum", 1, C, |a| {
        let n = number(&a[0])?;
        Ok(Val::number(if n == 0.0 { 0.0 } else { n.signum() }))
    }),
    f("slice", 3, S, slice),
    f("sort", 1, S, sort),
    f("split", 2, C, split),
    f("startswith", 2, C, |a| {
        Ok(Val::bool(text(&a[0])?.starts_with(text(&a[1])?.as_str())))
    }),
    f("strcontains", 2, C, |a| {
        Ok(Val::bool(text(&a[0])?.contains(text(&a[1])?.as_str())))
    }),
    f("strrev", 1, C, |a| {
        Ok(Val::string(text(&a[0])?.chars().rev().collect::<String>()))
    }),
    f("substr", 3, C, substr),
    f("sum", 1, C, sum),
    f("title", 1, C, title),
    f("tobool", 1, C, tobool),
    f("tolist", 1, S, tolist),
    f("tomap", 1, S, tomap),
    f("tonumber", 1, C, tonumber),
    f("toset", 1, S, toset),
    f("tostring", 1, C, tostring),
    f("transpose", 1, C, transpose),
    f("trim", 2, C, |a| {
        let cutset = text(&a[1])?;
        Ok(Val::string(
            text(&a[0])?.trim_matches(|c| cutset.contains(c)),
        ))
    }),
    f("trimprefix", 2, C, |a| {
        let (s, prefix) = (text(&a[0])?, text(&a[1])?);
        Ok(Val::string(s.strip_prefix(prefix.as_str()).unwrap_or(&s)))
    }),
    f("trimspace", 1, C, |a| Ok(Val::string(text(&a[0])?.trim()))),
    f("trimsuffix", 2, C, |a| {
        let (s, suffix) = (text(&a[0])?, text(&a[1])?);
        Ok(Val::string(s.strip_suffix(suffix.as_str()).unwrap_or(&s)))
    }),
    f("upper", 1, C, |a| {
        Ok(Val::string(text(&a[0])?.to_uppercase()))
    }),
    f("urlencode", 1, C, |a| {
        Ok(Val::string(urlencode(&text(&a[0])?)))
    }),
    f("uuidv5", 2, C, uuidv5),
    f("values", 1, S, values),
    f("zipmap", 2, S, zipmap),
];

/// Functions that look at their arguments in order and stop at the first that decides, so an
/// unknown argument after it does not matter: they see every argument as it is.
const IN_ORDER: &[&str] = &["coalesce", "coalescelist"];

/// Functions deliberately left unevaluated, and why: their result is unknown.
const UNEVALUATED: &[(&str, &str)] = &[
    (
        "file",
        "reads a file at plan time; its content is not part of the scanned configuration",
    ),
    ("filebase64", "reads a file at plan time"),
    ("filebase64sha256", "reads a file at plan time"),
    ("filebase64sha512", "reads a file at plan time"),
    ("fileexists", "depends on files at plan time"),
    ("fileset", "depends on files at plan time"),
    ("filemd5", "reads a file at plan time"),
    ("filesha1", "reads a file at plan time"),
    ("filesha256", "reads a file at plan time"),
    ("filesha512", "reads a file at plan time"),
    (
        "templatefile",
        "renders a template file the scan does not read",
    ),
    ("regex", "regular expressions are not evaluated"),
    ("regexall", "regular expressions are not evaluated"),
    ("cidrsubnet", "network address arithmetic is not evaluated"),
    ("cidrhost", "network address arithmetic is not evaluated"),
    ("cidrnetmask", "network address arithmetic is not evaluated"),
    ("cidrsubnets", "network address arithmetic is not evaluated"),
    ("timestamp", "the time is only known at apply"),
    ("plantimestamp", "the time is only known at plan"),
    ("timeadd", "date arithmetic is not evaluated"),
    ("timecmp", "date arithmetic is not evaluated"),
    ("formatdate", "dates are not formatted"),
    ("base64gzip", "compression is not evaluated"),
    ("textencodebase64", "character encodings are not evaluated"),
    ("textdecodebase64", "character encodings are not evaluated"),
    ("csvdecode", "CSV is not decoded"),
    (
        "templatestring",
        "templates given as values are not rendered",
    ),
    ("uuid", "a new value is made at apply"),
    ("bcrypt", "a new value is made at apply"),
    ("yamldecode", "YAML is not decoded"),
    ("yamlencode", "YAML is not encoded"),
];

/// Functions that read one element of a collection argument, not the whole of it: only their
/// other arguments count towards the data a load may pass to functions.
const READS_ONE_ELEMENT: &[&str] = &["element", "length", "lookup"];

/// Calls a built-in function with evaluated arguments.
pub(crate) fn call(name: &str, args: Vec<Val>, shared: &Shared) -> Val {
    let deep_refs = || {
        args.iter()
            .fold(Refs::default(), |acc, arg| acc.union(&arg.deep_refs()))
    };
    match name {
        "sensitive" if args.len() == 1 => return Val::sensitive().with_refs(&deep_refs()),
        // The scanner never held the content of a sensitive value, so it stays sensitive.
        "nonsensitive" if args.len() == 1 => {
            return args.into_iter().next().unwrap_or_else(Val::null)
        }
        "sensitive" | "nonsensitive" => return Val::error(),
        _ => {}
    }

    let Some(function) = find(name) else {
        match UNEVALUATED
            .iter()
            .find(|(unevaluated, _)| *unevaluated == name)
        {
            Some((_, why)) => shared.note(format!(
                "{name}() is not evaluated ({why}); its results are treated as unknown"
            )),
            None => shared.note(format!(
                "{name}() is not a function the scanner evaluates; its results are treated as \
                 unknown"
            )),
        }
        return Val::unknown().with_refs(&deep_refs());
    };
    let arity_ok =
        args.len() >= function.min_args && function.max_args.is_none_or(|max| args.len() <= max);
    if !arity_ok {
        return Val::error();
    }
    if !meter::charge_function_input(input_bytes(function.name, &args)) {
        return Val::unknown();
    }

    let mut apply = |known: &[Val]| match (function.body)(known) {
        Ok(value) | Err(value) => value,
    };
    let result = if IN_ORDER.contains(&function.name) {
        apply(&args)
    } else {
        lift(&args, &mut apply)
    };
    if function.shape == Shape::Computed || result.is_blocked() {
        result.with_refs(&deep_refs())
    } else {
        let top_refs = args
            .iter()
            .fold(Refs::default(), |acc, arg| acc.union(&arg.refs));
        result.with_refs(&top_refs)
    }
}

/// How much data a call hands its function: what the function will read of its arguments.
fn input_bytes(name: &str, args: &[Val]) -> u64 {
    let reads_one = READS_ONE_ELEMENT.contains(&name);
    args.iter()
        .map(|arg| match &arg.kind {
            Kind::List(_) | Kind::Map(_) if reads_one => 0,
            _ => u64::from(arg.weight()),
        })
        .sum()
}

fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS
        .binary_search_by(|function| function.name.cmp(name))
        .ok()
        .map(|i| &FUNCTIONS[i])
}

// ----- argument helpers: each returns the value standing for the result when the argument
// cannot be used -----

fn known(value: &Val) -> Result<&Val, Val> {
    if value.is_blocked() {
        Err(blocked_like(value))
    } else {
        Ok(value)
    }
}

fn text(value: &Val) -> Result<String, Val> {
    known(value)?.to_text().ok_or_else(Val::error)
}

fn number(value: &Val) -> Result<f64, Val> {
    known(value)?.as_number().ok_or_else(Val::error)
}

fn integer(value: &Val) -> Result<i64, Val> {
    let n = number(value)?;
    if n.fract() == 0.0 && n.abs() < 9e15 {
        Ok(n as i64)
    } else {
        Err(Val::error())
    }
}

fn boolean(value: &Val) -> Result<bool, Val> {
    known(value)?.as_bool().ok_or_else(Val::error)
}

fn list(value: &Val) -> Result<&[Val], Val> {
    known(value)?.as_list().ok_or_else(Val::error)
}

fn map(value: &Val) -> Result<&BTreeMap<String, Val>, Val> {
    known(value)?.as_map().ok_or_else(Val::error)
}

fn texts(items: &[Val]) -> Result<Vec<String>, Val> {
    items.iter().map(text).collect()
}

fn limited(len: usize) -> Result<(), Val> {
    if len > MAX_ELEMENTS {
        Err(Val::past_limit(Exceeded::Elements))
    } else {
        Ok(())
    }
}

/// The error for a string that would be longer than the load allows.
fn too_long() -> Result<Val, Val> {
    Err(Val::past_limit(Exceeded::StringBytes))
}

// ----- collections -----

fn alltrue(args: &[Val]) -> Result<Val, Val> {
    let mut all = true;
    for item in list(&args[0])? {
        all &= boolean(item)?;
    }
    Ok(Val::bool(all))
}

fn anytrue(args: &[Val]) -> Result<Val, Val> {
    let mut any = false;
    for item in list(&args[0])? {
        any |= boolean(item)?;
    }
    Ok(Val::bool(any))
}

fn chunklist(args: &[Val]) -> Result<Val, Val> {
    let items = list(&args[0])?;
    let size = integer(&args[1])?;
    if size < 0 {
        return Err(Val::error());
    }
    if size == 0 {
        return Ok(Val::list(vec![Val::list(items.to_vec())]));
    }
    Ok(Val::list(
        items
            .chunks(size as usize)
            .map(|chunk| Val::list(chunk.to_vec()))
            .collect(),
    ))
}

fn coalesce(args: &[Val]) -> Result<Val, Val> {
    for arg in args {
        let arg = known(arg)?;
        let empty = arg.is_null() || arg.as_str() == Some("");
        if !empty {
            return Ok(arg.clone());
        }
    }
    Err(Val::error())
}

fn coalescelist(args: &[Val]) -> Result<Val, Val> {
    for arg in args {
        if !list(arg)?.is_empty() {
            return Ok(arg.clone());
        }
    }
    Ok(Val::list(Vec::new()))
}

fn compact(args: &[Val]) -> Result<Val, Val> {
    let mut kept = Vec::new();
    for item in list(&args[0])? {
        let item = known(item)?;
        if !(item.is_null() || item.as_str() == Some("")) {
            kept.push(item.clone());
        }
    }
    Ok(Val::list(kept))
}

fn concat(args: &[Val]) -> Result<Val, Val> {
    let mut all = Vec::new();
    for arg in args {
        all.extend(
            list(arg)?
                .iter()
                .map(|item| item.clone().with_refs(&arg.refs)),
        );
        limited(all.len())?;
    }
    Ok(Val::list(all))
}

fn contains(args: &[Val]) -> Result<Val, Val> {
    let mut unknown = false;
    for item in list(&args[0])? {
        match item.equals(&args[1]) {
            Some(true) => return Ok(Val::bool(true)),
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown {
        Err(Val::unknown())
    } else {
        Ok(Val::bool(false))
    }
}

/// Removes duplicates, keeping the first of each; needs every element known.
fn dedup(items: Vec<Val>) -> Result<Vec<Val>, Val> {
    // Equal values are found by a key that spells each one out, not by comparing every pair:
    // `toset` over a hundred thousand names took minutes that way.
    let mut kept: Vec<Val> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for item in items {
        if !item.is_wholly_known() {
            return Err(blocked_like(&item));
        }
        let key = spelled(&item);
        match seen.get(&key) {
            Some(&i) => kept[i].refs = kept[i].refs.union(&item.refs),
            None => {
                seen.insert(key, kept.len());
                kept.push(item);
            }
        }
    }
    Ok(kept)
}

/// The key [`spell`] writes for a value.
fn spelled(value: &Val) -> String {
    let mut key = String::new();
    spell(value, &mut key);
    key
}

/// The keys of a set's members.
fn spellings(set: &[Val]) -> HashSet<String> {
    set.iter().map(spelled).collect()
}

/// Writes a key for a wholly known value that two values share exactly when they are equal:
/// each part says its kind, and each string its length, so that no two spellings run together.
fn spell(value: &Val, out: &mut String) {
    use std::fmt::Write;
    match &value.kind {
        Kind::Null => out.push('z'),
        Kind::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        // Adding zero makes -0 and 0 one key, as they are one number.
        Kind::Number(n) => {
            let _ = write!(out, "n{};", (n + 0.0).to_bits());
        }
        Kind::String(text) => {
            let _ = write!(out, "s{}:{text}", text.len());
        }
        Kind::List(items) => {
            out.push('[');
            for item in items.iter() {
                spell(item, out);
            }
            out.push(']');
        }
        Kind::Map(entries) => {
            out.push('{');
            for (key, item) in entries.iter() {
                let _ = write!(out, "{}:{key}", key.len());
                spell(item, out);
            }
            out.push('}');
        }
        // Not wholly known; `dedup` refuses these before asking.
        Kind::Unknown | Kind::Sensitive | Kind::AnyOf(_) | Kind::Error => out.push('?'),
    }
}

fn distinct(args: &[Val]) -> Result<Val, Val> {
    Ok(Val::list(dedup(list(&args[0])?.to_vec())?))
}

fn element(args: &[Val]) -> Result<Val, Val> {
    let items = list(&args[0])?;
    let index = integer(&args[1])?;
    if items.is_empty() || index < 0 {
        return Err(Val::error());
    }
    Ok(items[index as usize % items.len()].clone())
}

fn flatten(args: &[Val]) -> Result<Val, Val> {
    fn walk(items: &[Val], out: &mut Vec<Val>) -> Result<(), Val> {
        for item in items {
            match &item.kind {
                Kind::List(inner) => {
                    let inner: Vec<Val> = inner
                        .iter()
                        .map(|i| i.clone().with_refs(&item.refs))
                        .collect();
                    walk(&inner, out)?;
                }
                // An unknown element might be a list to flatten: the shape is unknown.
                Kind::Unknown | Kind::AnyOf(_) | Kind::Sensitive | Kind::Error => {
                    return Err(blocked_like(item))
                }
                _ => out.push(item.clone()),
            }
            limited(out.len())?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(list(&args[0])?, &mut out)?;
    Ok(Val::list(out))
}

fn index(args: &[Val]) -> Result<Val, Val> {
    for (i, item) in list(&args[0])?.iter().enumerate() {
        match item.equals(&args[1]) {
            Some(true) => return Ok(Val::number(i as f64)),
            Some(false) => {}
            None => return Err(Val::unknown()),
        }
    }
    Err(Val::error())
}

fn keys(args: &[Val]) -> Result<Val, Val> {
    Ok(Val::list(
        map(&args[0])?
            .keys()
            .map(|k| Val::string(k.as_str()))
            .collect(),
    ))
}

fn length(args: &[Val]) -> Result<Val, Val> {
    let value = known(&args[0])?;
    let len = match &value.kind {
        Kind::List(items) => items.len(),
        Kind::Map(map) => map.len(),
        Kind::String(s) => s.chars().count(),
        _ => return Err(Val::error()),
    };
    Ok(Val::number(len as f64))
}

fn lookup(args: &[Val]) -> Result<Val, Val> {
    let entries = map(&args[0])?;
    let key = text(&args[1])?;
    match (entries.get(&key), args.get(2)) {
        (Some(found), _) => Ok(found.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(Val::error()),
    }
}

fn merge(args: &[Val]) -> Result<Val, Val> {
    let mut merged = BTreeMap::new();
    for arg in args {
        if arg.is_null() {
            continue;
        }
        for (key, value) in map(arg)? {
            merged.insert(key.clone(), value.clone().with_refs(&arg.refs));
        }
    }
    Ok(Val::map(merged))
}

fn one(args: &[Val]) -> Result<Val, Val> {
    match list(&args[0])? {
        [] => Ok(Val::null()),
        [only] => Ok(only.clone()),
        _ => Err(Val::error()),
    }
}

fn range(args: &[Val]) -> Result<Val, Val> {
    let numbers: Vec<f64> = args.iter().map(number).collect::<Result<_, _>>()?;
    let (start, end, step) = match numbers.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, if start <= end { 1.0 } else { -1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => return Err(Val::error()),
    };
    if step == 0.0 || (step > 0.0 && start > end) || (step < 0.0 && start < end) {
        return if start == end {
            Ok(Val::list(Vec::new()))
        } else {
            Err(Val::error())
        };
    }
    let count = ((end - start) / step).ceil();
    if count > MAX_ELEMENTS as f64 {
        return Err(Val::past_limit(Exceeded::Elements));
    }
    if !(0.0..=MAX_ELEMENTS as f64).contains(&count) {
        return Err(Val::error());
    }
    Ok(Val::list(
        (0..count as usize)
            .map(|i| Val::number(start + step * i as f64))
            .collect(),
    ))
}

/// Sorted, duplicate-free elements, as Terraform orders the elements of a set.
fn as_set(items: &[Val]) -> Result<Vec<Val>, Val> {
    let mut set = dedup(items.to_vec())?;
    set.sort_by(|a, b| match (&a.kind, &b.kind) {
        (Kind::Number(x), Kind::Number(y)) => x.total_cmp(y),
        _ => a.to_text().cmp(&b.to_text()),
    });
    Ok(set)
}

fn setunion(args: &[Val]) -> Result<Val, Val> {
    let mut all = Vec::new();
    for arg in args {
        all.extend(
            list(arg)?
                .iter()
                .map(|item| item.clone().with_refs(&arg.refs)),
        );
        limited(all.len())?;
    }
    Ok(Val::list(as_set(&all)?))
}

fn setintersection(args: &[Val]) -> Result<Val, Val> {
    let mut kept = as_set(list(&args[0])?)?;
    for arg in &args[1..] {
        let other = spellings(&as_set(list(arg)?)?);
        kept.retain(|item| other.contains(&spelled(item)));
    }
    Ok(Val::list(kept))
}

fn setsubtract(args: &[Val]) -> Result<Val, Val> {
    let mut kept = as_set(list(&args[0])?)?;
    let removed = spellings(&as_set(list(&args[1])?)?);
    kept.retain(|item| !removed.contains(&spelled(item)));
    Ok(Val::list(kept))
}

/// Every combination of one element from each argument, the first argument varying slowest.
fn setproduct(args: &[Val]) -> Result<Val, Val> {
    let mut combinations: Vec<Vec<Val>> = vec![Vec::new()];
    for arg in args {
        let items = list(arg)?;
        limited(combinations.len().saturating_mul(items.len()))?;
        combinations = combinations
            .iter()
            .flat_map(|head| {
                items.iter().map(move |item| {
                    let mut combination = head.clone();
                    combination.push(item.clone().with_refs(&arg.refs));
                    combination
                })
            })
            .collect();
    }
    Ok(Val::list(combinations.into_iter().map(Val::list).collect()))
}

/// The elements of the first list whose counterpart in the second is in the third.
fn matchkeys(args: &[Val]) -> Result<Val, Val> {
    let (values, keys, wanted) = (list(&args[0])?, list(&args[1])?, list(&args[2])?);
    if values.len() != keys.len() {
        return Err(Val::error());
    }
    let mut kept = Vec::new();
    for (value, key) in values.iter().zip(keys) {
        let mut found = Some(false);
        for candidate in wanted {
            match key.equals(candidate) {
                Some(true) => {
                    found = Some(true);
                    break;
                }
                Some(false) => {}
                None => found = None,
            }
        }
        match found {
            Some(true) => kept.push(value.clone()),
            Some(false) => {}
            None => return Err(Val::unknown()),
        }
    }
    Ok(Val::list(kept))
}

/// A map of lists of strings turned inside out: each string names the keys that listed it.
fn transpose(args: &[Val]) -> Result<Val, Val> {
    let mut turned: BTreeMap<String, Vec<Val>> = BTreeMap::new();
    for (key, items) in map(&args[0])? {
        for item in list(items)? {
            let entry = turned.entry(text(item)?).or_default();
            entry.push(Val::string(key.as_str()));
            limited(entry.len())?;
        }
    }
    Ok(Val::map(
        turned
            .into_iter()
            .map(|(key, keys)| (key, Val::list(keys)))
            .collect(),
    ))
}

fn slice(args: &[Val]) -> Result<Val, Val> {
    let items = list(&args[0])?;
    let (start, end) = (integer(&args[1])?, integer(&args[2])?);
    if start < 0 || end < start || end as usize > items.len() {
        return Err(Val::error());
    }
    Ok(Val::list(items[start as usize..end as usize].to_vec()))
}

fn sort(args: &[Val]) -> Result<Val, Val> {
    let items = list(&args[0])?;
    let mut keyed: Vec<(String, Val)> = items
        .iter()
        .map(|item| Ok((text(item)?, item.clone())))
        .collect::<Result<_, Val>>()?;
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Val::list(keyed.into_iter().map(|(_, item)| item).collect()))
}

fn sum(args: &[Val]) -> Result<Val, Val> {
    let items = list(&args[0])?;
    if items.is_empty() {
        return Err(Val::error());
    }
    let mut total = 0.0;
    for item in items {
        total += number(item)?;
    }
    Ok(Val::number(total))
}

fn tolist(args: &[Val]) -> Result<Val, Val> {
    let value = known(&args[0])?;
    match &value.kind {
        Kind::List(_) | Kind::Null => Ok(value.clone()),
        _ => Err(Val::error()),
    }
}

fn tomap(args: &[Val]) -> Result<Val, Val> {
    let value = known(&args[0])?;
    match &value.kind {
        Kind::Map(_) | Kind::Null => Ok(value.clone()),
        _ => Err(Val::error()),
    }
}

fn toset(args: &[Val]) -> Result<Val, Val> {
    let value = known(&args[0])?;
    match &value.kind {
        Kind::Null => Ok(value.clone()),
        Kind::List(items) => Ok(Val::list(as_set(items)?)),
        _ => Err(Val::error()),
    }
}

fn values(args: &[Val]) -> Result<Val, Val> {
    Ok(Val::list(map(&args[0])?.values().cloned().collect()))
}

fn zipmap(args: &[Val]) -> Result<Val, Val> {
    let names = texts(list(&args[0])?)?;
    let values = list(&args[1])?;
    if names.len() != values.len() {
        return Err(Val::error());
    }
    Ok(Val::map(
        names.into_iter().zip(values.iter().cloned()).collect(),
    ))
}

// ----- conversions -----

fn tobool(args: &[Val]) -> Result<Val, Val> {
    let value = known(&args[0])?;
    if value.is_null() {
        return Ok(Val::null());
    }
    value.as_bool().map(Val::bool).ok_or_else(Val::error)
}

fn tonumber(args: &[Val]) -> Result<Val, Val> {
    let value = known(&args[0])?;
    if value.is_null() {
        return Ok(Val::null());
    }
    value.as_number().map(Val::number).ok_or_else(Val::error)
}

fn tostring(args: &[Val]) -> Result<Val, Val> {
    let value = known(&args[0])?;
    if value.is_null() {
        return Ok(Val::null());
    }
    value.to_text().map(Val::string).ok_or_else(Val::error)
}

fn parseint(args: &[Val]) -> Result<Val, Val> {
    let digits = text(&args[0])?;
    let base = integer(&args[1])?;
    if !(2..=62).contains(&base) {
        return Err(Val::error());
    }
    if base > 36 {
        // Bases above 36 are valid in Terraform but not evaluated here.
        return Err(Val::unknown());
    }
    i64::from_str_radix(&digits, base as u32)
        .map(|n| Val::number(n as f64))
        .map_err(|_| Val::error())
}

fn extreme(args: &[Val], pick: fn(f64, f64) -> f64) -> Result<Val, Val> {
    let mut best: Option<f64> = None;
    for arg in args {
        let n = number(arg)?;
        best = Some(best.map_or(n, |b| pick(b, n)));
    }
    best.map(Val::number).ok_or_else(Val::error)
}

// ----- strings -----

fn indent(args: &[Val]) -> Result<Val, Val> {
    let spaces = integer(&args[0])?;
    if spaces > MAX_STRING_BYTES as i64 {
        return too_long();
    }
    if spaces < 0 {
        return Err(Val::error());
    }
    let pad = format!("\n{}", " ".repeat(spaces as usize));
    let subject = text(&args[1])?;
    if subject.len() + subject.matches('\n').count() * pad.len() > MAX_STRING_BYTES {
        return too_long();
    }
    Ok(Val::string(subject.replace('\n', &pad)))
}

fn join(args: &[Val]) -> Result<Val, Val> {
    let separator = text(&args[0])?;
    let mut pieces = Vec::new();
    for arg in &args[1..] {
        pieces.extend(texts(list(arg)?)?);
    }
    let total = pieces
        .iter()
        .map(|p| p.len() + separator.len())
        .sum::<usize>();
    if total > MAX_STRING_BYTES {
        return too_long();
    }
    Ok(Val::string(pieces.join(&separator)))
}

fn replace(args: &[Val]) -> Result<Val, Val> {
    let subject = text(&args[0])?;
    let search = text(&args[1])?;
    let replacement = text(&args[2])?;
    // A search string in slashes is a regular expression, which is not evaluated.
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        return Err(Val::unknown());
    }
    if search.is_empty() {
        return Ok(Val::string(subject));
    }
    let growth = replacement.len().saturating_sub(search.len());
    let longest = subject.len() + subject.matches(search.as_str()).count() * growth;
    if longest > MAX_STRING_BYTES {
        return too_long();
    }
    Ok(Val::string(subject.replace(&search, &replacement)))
}

fn split(args: &[Val]) -> Result<Val, Val> {
    let separator = text(&args[0])?;
    let subject = text(&args[1])?;
    let pieces: Vec<Val> = if separator.is_empty() {
        subject
            .chars()
            .map(|c| Val::string(c.to_string()))
            .collect()
    } else {
        subject.split(separator.as_str()).map(Val::string).collect()
    };
    Ok(Val::list(pieces))
}

fn substr(args: &[Val]) -> Result<Val, Val> {
    let chars: Vec<char> = text(&args[0])?.chars().collect();
    let len = chars.len() as i64;
    let mut offset = integer(&args[1])?;
    let length = integer(&args[2])?;
    if offset < 0 {
        offset += len;
    }
    if offset < 0 || offset > len {
        return Err(Val::error());
    }
    let end = if length < 0 {
        len
    } else {
        (offset + length).min(len)
    };
    Ok(Val::string(
        chars[offset as usize..end as usize]
            .iter()
            .collect::<String>(),
    ))
}

fn title(args: &[Val]) -> Result<Val, Val> {
    let mut titled = String::new();
    let mut at_word_start = true;
    for c in text(&args[0])?.chars() {
        if at_word_start {
            titled.extend(c.to_uppercase());
        } else {
            titled.push(c);
        }
        at_word_start = separates_words(c);
    }
    Ok(Val::string(titled))
}

/// What ends a word for `title`: any ASCII character but letters, digits and `_`, and
/// white space beyond ASCII.
fn separates_words(c: char) -> bool {
    if c.is_ascii() {
        !(c.is_ascii_alphanumeric() || c == '_')
    } else {
        !c.is_alphanumeric() && c.is_whitespace()
    }
}

// ----- paths: as on the Unix systems Terraform mostly runs on, `/` the only separator -----

/// The last element of a path, trailing slashes ignored.
fn basename(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_string();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Everything but the last element of a path, tidied as [`clean_path`] does.
fn dirname(path: &str) -> String {
    match path.rfind('/') {
        Some(last) => clean_path(&path[..=last]),
        None => ".".to_string(),
    }
}

/// The shortest path naming the same file, by lexical rules only: repeated slashes, `.`
/// elements and `..` after a name are removed.
fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut kept: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => match kept.last() {
                Some(&last) if last != ".." => {
                    kept.pop();
                }
                _ if rooted => {}
                _ => kept.push(".."),
            },
            name => kept.push(name),
        }
    }
    let joined = kept.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// An absolute path tidied; a relative one depends on where Terraform runs: unknown.
fn abspath(args: &[Val]) -> Result<Val, Val> {
    let path = text(&args[0])?;
    if path.starts_with('/') {
        Ok(Val::string(clean_path(&path)))
    } else {
        Err(Val::unknown())
    }
}

/// A path starting with `~` depends on the home directory of whoever runs Terraform:
/// unknown. Any other path is returned as it is.
fn pathexpand(args: &[Val]) -> Result<Val, Val> {
    let path = text(&args[0])?;
    if path.starts_with('~') {
        Err(Val::unknown())
    } else {
        Ok(Val::string(path))
    }
}

// ----- encodings and digests -----

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard Base64 with `=` padding.
fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (group >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(BASE64_ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard Base64 (padding required, line breaks ignored) into UTF-8 text; anything
/// else is an error, as in Terraform.
fn base64decode(args: &[Val]) -> Result<Val, Val> {
    let encoded: Vec<u8> = text(&args[0])?
        .bytes()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    if !encoded.len().is_multiple_of(4) {
        return Err(Val::error());
    }
    let mut bytes = Vec::with_capacity(encoded.len() / 4 * 3);
    let last_group = encoded.len() / 4;
    for (n, group) in encoded.chunks(4).enumerate() {
        let padding = group.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && n + 1 != last_group) {
            return Err(Val::error());
        }
        let mut bits = 0u32;
        for &b in &group[..4 - padding] {
            let index = BASE64_ALPHABET
                .iter()
                .position(|&a| a == b)
                .ok_or_else(Val::error)?;
            bits = bits << 6 | index as u32;
        }
        bits <<= 6 * padding;
        let decoded = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        bytes.extend_from_slice(&decoded[..3 - padding]);
    }
    String::from_utf8(bytes)
        .map(Val::string)
        .map_err(|_| Val::error())
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Escapes text for a URL query: letters, digits and `-_.~` stay, a space becomes `+`, every
/// other byte becomes `%XX`.
fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The name-based UUID (version 5) of a name within a namespace: `dns`, `url`, `oid`, `x500`
/// or a UUID of its own.
fn uuidv5(args: &[Val]) -> Result<Val, Val> {
    let namespace = match text(&args[0])?.as_str() {
        "dns" => "6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_string(),
        "url" => "6ba7b811-9dad-11d1-80b4-00c04fd430c8".to_string(),
        "oid" => "6ba7b812-9dad-11d1-80b4-00c04fd430c8".to_string(),
        "x500" => "6ba7b814-9dad-11d1-80b4-00c04fd430c8".to_string(),
        other => other.to_string(),
    };
    let namespace = parse_uuid(&namespace).ok_or_else(Val::error)?;
    let name = text(&args[1])?;

    let mut hasher = Sha1::new();
    hasher.update(namespace);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&digest[..16]);
    uuid[6] = (uuid[6] & 0x0f) | 0x50;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;

    let digits = hex(&uuid);
    Ok(Val::string(format!(
        "{}-{}-{}-{}-{}",
        &digits[..8],
        &digits[8..12],
        &digits[12..16],
        &digits[16..20],
        &digits[20..]
    )))
}

/// The 16 bytes of a UUID written `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return None;
    }
    let digits: String = groups.concat();
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digits.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(bytes)
}

/// `format` with the verbs configurations use: `%s %d %f %e %g %t %q %v %x %X %o %b %%`,
/// flags `- + 0 space`, width, precision and explicit argument indexes (`%[2]s`).
fn format(args: &[Val]) -> Result<Val, Val> {
    let spec = text(&args[0])?;
    let mut out = String::new();
    let mut next_arg = 1;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }

        let mut left = false;
        let mut zero = false;
        let mut plus = false;
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
            next_arg = digits.parse::<usize>().map_err(|_| Val::error())?;
        }
        let width = read_number(&mut chars)?;
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            Some(read_number(&mut chars)?.unwrap_or(0))
        } else {
            None
        };
        let verb = chars.next().ok_or_else(Val::error)?;
        let arg = args.get(next_arg).ok_or_else(Val::error)?;
        next_arg += 1;
        let piece = format_verb(verb, arg, precision, plus)?;

        let width = width.unwrap_or(0);
        let fill = width.saturating_sub(piece.chars().count());
        if out.len() + piece.len() + width > MAX_STRING_BYTES {
            return too_long();
        }
        let numeric = matches!(verb, 'd' | 'f' | 'e' | 'g' | 'x' | 'X' | 'o' | 'b');
        if left {
            out.push_str(&piece);
            out.extend(std::iter::repeat_n(' ', fill));
        } else if zero && numeric {
            let (sign, digits) = match piece.strip_prefix(['-', '+']) {
                Some(rest) => (&piece[..1], rest),
                None => ("", piece.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', fill));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', fill));
            out.push_str(&piece);
        }
    }
    Ok(Val::string(out))
}

/// `formatlist`: `format` applied element by element; list arguments must have one length,
/// other arguments are repeated.
fn formatlist(args: &[Val]) -> Result<Val, Val> {
    let mut length: Option<usize> = None;
    for arg in &args[1..] {
        if let Some(items) = known(arg)?.as_list() {
            match length {
                Some(n) if n != items.len() => return Err(Val::error()),
                _ => length = Some(items.len()),
            }
        }
    }
    let Some(length) = length else {
        return Ok(Val::list(vec![format(args)?]));
    };
    let mut lines = Vec::with_capacity(length);
    for i in 0..length {
        let row: Vec<Val> = std::iter::once(args[0].clone())
            .chain(args[1..].iter().map(|arg| match arg.as_list() {
                Some(items) => items[i].clone(),
                None => arg.clone(),
            }))
            .collect();
        lines.push(format(&row)?);
    }
    Ok(Val::list(lines))
}

fn read_number(chars: &mut std::iter::Peekable<std::str::Chars>) -> Result<Option<usize>, Val> {
    let mut digits = String::new();
    while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
        digits.push(c);
        chars.next();
    }
    if digits.is_empty() {
        return Ok(None);
    }
    // A width or precision past the longest string allowed cannot give a string that is.
    match digits.parse::<usize>() {
        Ok(n) if n <= MAX_STRING_BYTES => Ok(Some(n)),
        _ => Err(Val::past_limit(Exceeded::StringBytes)),
    }
}

fn format_verb(verb: char, arg: &Val, precision: Option<usize>, plus: bool) -> Result<String, Val> {
    let signed = |n: f64, body: String| {
        if plus && n >= 0.0 {
            format!("+{body}")
        } else {
            body
        }
    };
    Ok(match verb {
        's' => text(arg)?,
        'v' => match &known(arg)?.kind {
            Kind::List(_) | Kind::Map(_) => json_text(arg)?,
            _ => text(arg)?,
        },
        'q' => serde_json::to_string(&text(arg)?).map_err(|_| Val::error())?,
        't' => boolean(arg)?.to_string(),
        'd' => {
            let n = integer(arg)?;
            signed(n as f64, n.to_string())
        }
        'f' => {
            let n = number(arg)?;
            signed(n, format!("{n:.*}", precision.unwrap_or(6)))
        }
        'e' => {
            let n = number(arg)?;
            signed(n, format!("{n:.*e}", precision.unwrap_or(6)))
        }
        'g' => {
            let n = number(arg)?;
            signed(n, format_number(n))
        }
        'x' => format!("{:x}", integer(arg)?),
        'X' => format!("{:X}", integer(arg)?),
        'o' => format!("{:o}", integer(arg)?),
        'b' => format!("{:b}", integer(arg)?),
        // Verbs Terraform has and this does not: unknown rather than a wrong string.
        _ => return Err(Val::unknown()),
    })
}

// ----- JSON -----

fn jsonencode(args: &[Val]) -> Result<Val, Val> {
    json_text(&args[0]).map(Val::string)
}

fn json_text(value: &Val) -> Result<String, Val> {
    let json = to_json(value)?;
    let text = serde_json::to_string(&json).map_err(|_| Val::error())?;
    // Terraform's encoder escapes the characters HTML gives a meaning to. Most texts have none,
    // and each replacement below copies the whole text.
    const ESCAPED: [char; 5] = ['<', '>', '&', '\u{2028}', '\u{2029}'];
    if !text.contains(ESCAPED) {
        return Ok(text);
    }
    Ok(text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029"))
}

fn to_json(value: &Val) -> Result<serde_json::Value, Val> {
    Ok(match &known(value)?.kind {
        Kind::Null => serde_json::Value::Null,
        Kind::Bool(b) => serde_json::Value::Bool(*b),
        Kind::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => serde_json::Value::from(*n as i64),
        Kind::Number(n) => serde_json::Number::from_f64(*n)
            .map(serde_json::Value::Number)
            .ok_or_else(Val::error)?,
        Kind::String(s) => serde_json::Value::String(s.to_string()),
        Kind::List(items) => {
            serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Kind::Map(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v)?)))
                .collect::<Result<_, Val>>()?,
        ),
        _ => return Err(Val::unknown()),
    })
}

fn jsondecode(args: &[Val]) -> Result<Val, Val> {
    let source = text(&args[0])?;
    serde_json::from_str::<serde_json::Value>(&source)
        .map(|json| Val::from_json(&json))
        .map_err(|_| Val::error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn run(name: &str, args: Vec<Val>) -> Value {
        call(name, args, &Shared::new(1000)).to_value()
    }

    fn strings(items: &[&str]) -> Val {
        Val::list(items.iter().map(|s| Val::string(*s)).collect())
    }

    #[test]
    fn the_table_is_sorted_for_lookup() {
        for pair in FUNCTIONS.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} out of order", pair[1].name);
        }
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            run("join", vec![Val::string("-"), strings(&["a", "b"])]),
            Value::from("a-b")
        );
        assert_eq!(
            run("split", vec![Val::string(","), Val::string("x,y")]),
            Value::List(vec!["x".into(), "y".into()])
        );
        assert_eq!(
            run(
                "replace",
                vec![Val::string("a.b.c"), Val::string("."), Val::string("-")]
            ),
            Value::from("a-b-c")
        );
        assert_eq!(
            run(
                "substr",
                vec![Val::string("hello"), Val::number(1.0), Val::number(3.0)]
            ),
            Value::from("ell")
        );
        assert_eq!(
            run(
                "substr",
                vec![Val::string("hello"), Val::number(-3.0), Val::number(-1.0)]
            ),
            Value::from("llo")
        );
        assert_eq!(
            run("trimspace", vec![Val::string("  x \n")]),
            Value::from("x")
        );
        assert_eq!(
            run(
                "trimprefix",
                vec![Val::string("acme-prod"), Val::string("acme-")]
            ),
            Value::from("prod")
        );
        assert_eq!(run("upper", vec![Val::string("kms")]), Value::from("KMS"));
        assert_eq!(
            run("title", vec![Val::string("patient records")]),
            Value::from("Patient Records")
        );
    }

    #[test]
    fn format_pads_and_converts() {
        let formatted = run(
            "format",
            vec![
                Val::string("%s-%03d-%.2f-%t-%q-%%"),
                Val::string("db"),
                Val::number(7.0),
                Val::number(1.5),
                Val::bool(true),
                Val::string("x"),
            ],
        );
        assert_eq!(formatted, Value::from("db-007-1.50-true-\"x\"-%"));
        assert_eq!(
            run(
                "format",
                vec![
                    Val::string("%[2]s/%[1]s"),
                    Val::string("a"),
                    Val::string("b")
                ]
            ),
            Value::from("b/a")
        );
        assert_eq!(
            run(
                "format",
                vec![Val::string("%s %s"), Val::string("only one")]
            ),
            Value::Unknown,
            "a missing argument is an error, shown as unknown"
        );
    }

    #[test]
    fn formatlist_formats_each_element() {
        assert_eq!(
            run(
                "formatlist",
                vec![Val::string("arn:aws:s3:::%s/*"), strings(&["a", "b"])]
            ),
            Value::List(vec!["arn:aws:s3:::a/*".into(), "arn:aws:s3:::b/*".into()])
        );
        assert_eq!(
            run(
                "formatlist",
                vec![Val::string("%s"), strings(&["a"]), strings(&["b", "c"])]
            ),
            Value::Unknown,
            "lists of different lengths are an error"
        );
    }

    #[test]
    fn coalesce_stops_at_the_first_deciding_argument() {
        assert_eq!(
            run("coalesce", vec![Val::string("x"), Val::unknown()]),
            Value::from("x")
        );
        assert_eq!(
            run(
                "coalesce",
                vec![Val::null(), Val::unknown(), Val::string("x")]
            ),
            Value::Unknown
        );
    }

    #[test]
    fn collection_functions() {
        assert_eq!(
            run("concat", vec![strings(&["a"]), strings(&["b", "c"])]),
            Value::List(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            run("toset", vec![strings(&["b", "a", "b"])]),
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            run("distinct", vec![strings(&["b", "a", "b"])]),
            Value::List(vec!["b".into(), "a".into()])
        );
        // Equal values of every kind are one; a number and its text are two, as are strings
        // that would run together if their lengths were not spelled out.
        let mixed = Val::list(vec![
            Val::number(0.0),
            Val::number(-0.0),
            Val::string("0"),
            Val::list(vec![Val::string("ab"), Val::string("c")]),
            Val::list(vec![Val::string("a"), Val::string("bc")]),
            Val::list(vec![Val::string("ab"), Val::string("c")]),
            Val::map([("k".to_string(), Val::bool(true))].into_iter().collect()),
            Val::map([("k".to_string(), Val::bool(true))].into_iter().collect()),
            Val::null(),
        ]);
        let Value::List(kept) = run("distinct", vec![mixed]) else {
            panic!("distinct gives a list");
        };
        assert_eq!(kept.len(), 6, "{kept:?}");
        assert_eq!(
            run(
                "flatten",
                vec![Val::list(vec![
                    strings(&["a"]),
                    strings(&["b"]),
                    Val::string("c")
                ])]
            ),
            Value::List(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            run("element", vec![strings(&["a", "b"]), Val::number(3.0)]),
            Value::from("b")
        );
        assert_eq!(
            run("length", vec![strings(&["a", "b"])]),
            Value::Number(2.0)
        );
        assert_eq!(
            run("range", vec![Val::number(3.0)]),
            Value::List(vec![0.0.into(), 1.0.into(), 2.0.into()])
        );
        assert_eq!(
            run(
                "slice",
                vec![
                    strings(&["a", "b", "c"]),
                    Val::number(1.0),
                    Val::number(3.0)
                ]
            ),
            Value::List(vec!["b".into(), "c".into()])
        );
        assert_eq!(
            run("setunion", vec![strings(&["b"]), strings(&["a", "b"])]),
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            run("contains", vec![strings(&["a"]), Val::string("a")]),
            Value::Bool(true)
        );
        assert_eq!(run("one", vec![strings(&[])]), Value::Null);
        assert_eq!(
            run(
                "sum",
                vec![Val::list(vec![Val::number(1.0), Val::number(2.5)])]
            ),
            Value::Number(3.5)
        );
        assert_eq!(
            run(
                "compact",
                vec![Val::list(vec![
                    Val::string(""),
                    Val::null(),
                    Val::string("x")
                ])]
            ),
            Value::List(vec!["x".into()])
        );
        assert_eq!(
            run(
                "coalesce",
                vec![Val::string(""), Val::null(), Val::string("z")]
            ),
            Value::from("z")
        );
    }

    #[test]
    fn map_functions() {
        let mut entries = BTreeMap::new();
        entries.insert("b".to_string(), Val::number(2.0));
        entries.insert("a".to_string(), Val::number(1.0));
        let m = Val::map(entries);
        assert_eq!(
            run("keys", vec![m.clone()]),
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            run("values", vec![m.clone()]),
            Value::List(vec![1.0.into(), 2.0.into()])
        );
        assert_eq!(
            run(
                "lookup",
                vec![m.clone(), Val::string("c"), Val::number(9.0)]
            ),
            Value::Number(9.0)
        );
        assert_eq!(
            run("lookup", vec![m.clone(), Val::string("c")]),
            Value::Unknown
        );
        let mut other = BTreeMap::new();
        other.insert("a".to_string(), Val::number(5.0));
        let merged = run("merge", vec![m, Val::map(other)]);
        assert_eq!(merged.get("a"), Some(&Value::Number(5.0)));
        assert_eq!(merged.get("b"), Some(&Value::Number(2.0)));
        assert_eq!(
            run("zipmap", vec![strings(&["k"]), strings(&["v"])]).get("k"),
            Some(&Value::from("v"))
        );
    }

    #[test]
    fn conversions_and_json() {
        assert_eq!(run("tostring", vec![Val::number(5.0)]), Value::from("5"));
        assert_eq!(
            run("tonumber", vec![Val::string("42")]),
            Value::Number(42.0)
        );
        assert_eq!(run("tonumber", vec![Val::string("x")]), Value::Unknown);
        assert_eq!(run("tobool", vec![Val::string("true")]), Value::Bool(true));
        let mut entries = BTreeMap::new();
        entries.insert("b".to_string(), Val::number(1.0));
        entries.insert("a".to_string(), strings(&["<x>"]));
        assert_eq!(
            run("jsonencode", vec![Val::map(entries)]),
            Value::from(r#"{"a":["\u003cx\u003e"],"b":1}"#)
        );
        let decoded = run("jsondecode", vec![Val::string(r#"{"k": [1, "two"]}"#)]);
        assert_eq!(
            decoded.get("k"),
            Some(&Value::List(vec![1.0.into(), "two".into()]))
        );
        assert_eq!(
            run("max", vec![Val::number(1.0), Val::number(4.0)]),
            Value::Number(4.0)
        );
        assert_eq!(
            run("min", vec![Val::number(1.0), Val::number(4.0)]),
            Value::Number(1.0)
        );
        assert_eq!(run("ceil", vec![Val::number(1.2)]), Value::Number(2.0));
        assert_eq!(run("floor", vec![Val::number(1.8)]), Value::Number(1.0));
        assert_eq!(run("abs", vec![Val::number(-3.0)]), Value::Number(3.0));
    }

    #[test]
    fn unknown_and_sensitive_arguments_decide_the_result() {
        assert_eq!(run("upper", vec![Val::unknown()]), Value::Unknown);
        assert_eq!(run("upper", vec![Val::sensitive()]), Value::Sensitive);
        assert_eq!(
            run(
                "join",
                vec![Val::string(","), Val::list(vec![Val::unknown()])]
            ),
            Value::Unknown
        );
        assert_eq!(
            run("length", vec![Val::list(vec![Val::unknown()])]),
            Value::Number(1.0)
        );
        assert_eq!(
            run("sensitive", vec![Val::string("secret")]),
            Value::Sensitive
        );
        let choice = Val::any_of(vec![Val::string("a"), Val::string("b")]);
        assert_eq!(
            run("upper", vec![choice]),
            Value::AnyOf(vec!["A".into(), "B".into()])
        );
    }

    #[test]
    fn functions_not_implemented_are_unknown_and_noted() {
        let shared = Shared::new(100);
        let result = call("regex", vec![Val::string("a"), Val::string("abc")], &shared);
        assert_eq!(result.to_value(), Value::Unknown);
        let result = call("file", vec![Val::string("x.json")], &shared);
        assert_eq!(result.to_value(), Value::Unknown);
        let result = call(
            "timeadd",
            vec![Val::string("x"), Val::string("1h")],
            &shared,
        );
        assert_eq!(result.to_value(), Value::Unknown);
        let notes = shared.take_notes();
        assert!(notes
            .iter()
            .any(|n| n.starts_with("timeadd() is not evaluated (date")));
        assert!(notes.iter().any(|n| n.starts_with("file()")), "{notes:?}");
        assert!(notes.iter().any(|n| n.starts_with("regex()")), "{notes:?}");
    }

    #[test]
    fn huge_ranges_and_strings_are_refused() {
        assert_eq!(run("range", vec![Val::number(1e12)]), Value::Unknown);
        let long = Val::string("a".repeat(100_000));
        let wide = Val::string(" ".repeat(1000));
        assert_eq!(
            run("replace", vec![long.clone(), Val::string("a"), wide]),
            Value::Unknown
        );
        let many = Val::list(vec![long; 200]);
        assert_eq!(run("join", vec![Val::string(""), many]), Value::Unknown);
    }

    #[test]
    fn digests_and_encodings_match_known_values() {
        let hello = || vec![Val::string("hello world")];
        assert_eq!(
            run("md5", hello()),
            Value::from("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(
            run("sha1", hello()),
            Value::from("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(
            run("sha256", hello()),
            Value::from("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            run("base64sha256", hello()),
            Value::from("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
        assert_eq!(
            run("base64sha512", hello()),
            Value::from(
                "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw=="
            )
        );
        assert!(run("sha512", hello())
            .as_str()
            .is_some_and(|d| d.len() == 128 && d.starts_with("309ecc489c12d6eb")));

        for (plain, encoded) in [
            ("", ""),
            ("a", "YQ=="),
            ("ab", "YWI="),
            ("héllo", "aMOpbGxv"),
        ] {
            assert_eq!(
                run("base64encode", vec![Val::string(plain)]),
                Value::from(encoded)
            );
            assert_eq!(
                run("base64decode", vec![Val::string(encoded)]),
                Value::from(plain)
            );
        }
        assert_eq!(
            run("base64decode", vec![Val::string("YW\nI=")]),
            Value::from("ab")
        );
        // Bad length, padding inside, a stray character, bytes that are not UTF-8.
        for bad in ["YWI", "YQ==YWI=", "Y*I=", "/w=="] {
            assert_eq!(
                run("base64decode", vec![Val::string(bad)]),
                Value::Unknown,
                "{bad}"
            );
        }

        assert_eq!(
            run("urlencode", vec![Val::string("Hello World!/~é")]),
            Value::from("Hello+World%21%2F~%C3%A9")
        );
        assert_eq!(
            run(
                "uuidv5",
                vec![Val::string("dns"), Val::string("www.terraform.io")]
            ),
            Value::from("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert_eq!(
            run(
                "uuidv5",
                vec![
                    Val::string("6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
                    Val::string("x")
                ]
            ),
            Value::from("4cd605e7-afa2-5360-b5b9-c5e9fb5c76f4")
        );
        assert_eq!(
            run("uuidv5", vec![Val::string("nope"), Val::string("x")]),
            Value::Unknown
        );
    }

    #[test]
    fn paths_are_split_lexically_and_the_machine_dependent_stay_unknown() {
        for (path, base, dir) in [
            ("foo/bar/baz.txt", "baz.txt", "foo/bar"),
            ("a/b//", "b", "a/b"),
            ("/", "/", "/"),
            ("", ".", "."),
            ("name", "name", "."),
            ("./x/../y/z", "z", "y"),
            ("/../etc/hosts", "hosts", "/etc"),
        ] {
            assert_eq!(
                run("basename", vec![Val::string(path)]),
                Value::from(base),
                "{path}"
            );
            assert_eq!(
                run("dirname", vec![Val::string(path)]),
                Value::from(dir),
                "{path}"
            );
        }
        assert_eq!(
            run("abspath", vec![Val::string("/srv/./app/../data")]),
            Value::from("/srv/data")
        );
        assert_eq!(run("abspath", vec![Val::string("data")]), Value::Unknown);
        assert_eq!(
            run("pathexpand", vec![Val::string("/etc/ssl")]),
            Value::from("/etc/ssl")
        );
        assert_eq!(
            run("pathexpand", vec![Val::string("~/.ssh")]),
            Value::Unknown
        );
    }

    #[test]
    fn collections_turned_combined_and_matched() {
        let mut groups = BTreeMap::new();
        groups.insert("a".to_string(), strings(&["x", "y"]));
        groups.insert("b".to_string(), strings(&["y"]));
        let turned = run("transpose", vec![Val::map(groups)]);
        assert_eq!(turned.get("x"), Some(&Value::List(vec!["a".into()])));
        assert_eq!(
            turned.get("y"),
            Some(&Value::List(vec!["a".into(), "b".into()]))
        );

        assert_eq!(
            run(
                "matchkeys",
                vec![
                    strings(&["i-1", "i-2", "i-3"]),
                    strings(&["us-east-1a", "us-east-1b", "us-east-1a"]),
                    strings(&["us-east-1a"]),
                ]
            ),
            Value::List(vec!["i-1".into(), "i-3".into()])
        );
        assert_eq!(
            run(
                "matchkeys",
                vec![strings(&["i-1"]), strings(&["a", "b"]), strings(&["a"])]
            ),
            Value::Unknown
        );

        let product = run(
            "setproduct",
            vec![strings(&["a", "b"]), strings(&["1", "2"])],
        );
        let pairs: Vec<Vec<&str>> = product
            .as_list()
            .expect("a list")
            .iter()
            .map(|pair| {
                pair.as_list()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect()
            })
            .collect();
        assert_eq!(pairs, [["a", "1"], ["a", "2"], ["b", "1"], ["b", "2"]]);

        assert_eq!(
            run("log", vec![Val::number(8.0), Val::number(2.0)]),
            Value::Number(3.0)
        );
        assert_eq!(
            run("title", vec![Val::string("phi_store bucket-name")]),
            Value::from("Phi_store Bucket-Name")
        );
    }
}
