//! Inputs that once broke the `msgpack_codec` fuzz target, kept in
//! `fuzz/regressions/msgpack_codec/` and checked as the target checks them; and the writer of
//! the target's seed corpus (`fuzz/seeds/msgpack_codec/`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use terraform_provider_hipaa::msgpack;
use terraform_provider_hipaa::resources::all_value_types;
use terraform_provider_hipaa::value::{Number, Type, Value};

/// What the fuzz target does with an input: a value that decodes must come back the same
/// through encoding and decoding again.
fn check(input: &[u8], types: &[Type]) -> Result<Value, msgpack::DecodeError> {
    let Some((&pick, bytes)) = input.split_first() else {
        return Ok(Value::Null);
    };
    let ty = &types[usize::from(pick) % types.len()];
    let value = msgpack::decode(bytes, ty)?;
    let again = msgpack::decode(&msgpack::encode(&value, ty), ty);
    assert_eq!(
        again.as_ref(),
        Ok(&value),
        "the value changed in a round trip"
    );
    Ok(value)
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn inputs_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| (path.clone(), std::fs::read(&path).unwrap()))
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn inputs_that_broke_the_codec_decode_cleanly() {
    let types = all_value_types();
    let inputs = inputs_in(&repository().join("fuzz/regressions/msgpack_codec"));
    assert!(!inputs.is_empty(), "no saved inputs found");
    for (path, bytes) in inputs {
        let outcome = check(&bytes, &types);
        if let Err(error) = outcome {
            assert!(!error.message.is_empty(), "{}: empty error", path.display());
        }
    }
}

/// A value of `ty` with every part set: the kind of value Terraform sends in a plan.
fn sample(ty: &Type) -> Value {
    match ty {
        Type::String => Value::string("lic-0001"),
        Type::Number => Value::int(365),
        Type::Bool => Value::Bool(true),
        Type::Dynamic => Value::Dynamic(Type::String, Box::new(Value::string("x"))),
        Type::List(element) | Type::Set(element) => Value::List(vec![sample(element); 2]),
        Type::Map(element) => Value::Map(BTreeMap::from([("a".to_string(), sample(element))])),
        Type::Object(attributes) => Value::Map(
            attributes
                .iter()
                .map(|(name, ty)| (name.clone(), sample(ty)))
                .collect(),
        ),
        Type::Tuple(elements) => Value::List(elements.iter().map(sample).collect()),
    }
}

/// An object of `ty` whose attributes are all `fill`: a configuration with nothing set, or
/// a plan with everything still unknown.
fn filled(ty: &Type, fill: &Value) -> Value {
    match ty {
        Type::Object(attributes) => Value::Map(
            attributes
                .keys()
                .map(|name| (name.clone(), fill.clone()))
                .collect(),
        ),
        _ => fill.clone(),
    }
}

/// Writes the seed corpus of the `msgpack_codec` target: for every type, a value with every
/// attribute set, one with all null, one with all unknown and one with refined unknowns; and
/// dynamic values of several concrete types.
/// Run: `cargo test -p terraform-provider-hipaa --test fuzz_regressions -- --ignored`.
#[test]
#[ignore = "writes fuzz/seeds/msgpack_codec; run by hand when the schemas change"]
fn write_msgpack_seed_corpus() {
    // ext8 code 12 {1: true, 2: "lic-"}: an unknown known not to be null, with a prefix.
    let refined = msgpack::decode(
        &[
            0xc7, 0x09, 0x0c, 0x82, 0x01, 0xc3, 0x02, 0xa4, b'l', b'i', b'c', b'-',
        ],
        &Type::String,
    )
    .unwrap();
    let types = all_value_types();
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (index, ty) in types.iter().enumerate() {
        let variants = [
            ("set", sample(ty)),
            ("null", filled(ty, &Value::Null)),
            ("unknown", filled(ty, &Value::unknown())),
            ("refined", filled(ty, &refined)),
        ];
        for (name, value) in variants {
            let mut input = vec![u8::try_from(index).unwrap()];
            input.extend(msgpack::encode(&value, ty));
            seeds.push((format!("type{index}-{name}"), input));
        }
    }
    let dynamic = u8::try_from(types.len() - 1).unwrap();
    let concrete = [
        ("number", Type::Number, Value::Number(Number::Float(0.25))),
        ("bool", Type::Bool, Value::Bool(false)),
        (
            "list",
            Type::list_of(Type::String),
            sample(&Type::list_of(Type::String)),
        ),
        (
            "tuple",
            Type::Tuple(vec![Type::Number, Type::Bool]),
            sample(&Type::Tuple(vec![Type::Number, Type::Bool])),
        ),
        (
            "map",
            Type::Map(Box::new(Type::Number)),
            sample(&Type::Map(Box::new(Type::Number))),
        ),
    ];
    for (name, ty, value) in concrete {
        let mut input = vec![dynamic];
        input.extend(msgpack::encode(
            &Value::Dynamic(ty, Box::new(value)),
            &Type::Dynamic,
        ));
        seeds.push((format!("dynamic-{name}"), input));
    }

    let dir = repository().join("fuzz/seeds/msgpack_codec");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, input) in seeds {
        check(&input, &types).expect("a seed decodes");
        std::fs::write(dir.join(name), input).unwrap();
    }
}
