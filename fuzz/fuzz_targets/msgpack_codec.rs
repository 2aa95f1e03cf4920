//! Arbitrary bytes decoded as a `DynamicValue` against the types of the provider's own
//! schemas. What decodes must encode and decode back to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_hipaa::msgpack;
use terraform_provider_hipaa::resources::{all_data_sources, all_resources};
use terraform_provider_hipaa::value::Type;

/// The types a value is decoded against: every resource's and data source's object type,
/// then the `dynamic` type, whose values carry their own.
fn types() -> Vec<Type> {
    let resources = all_resources()
        .into_iter()
        .map(|r| r.schema().object_type());
    let data = all_data_sources()
        .into_iter()
        .map(|d| d.schema().object_type());
    resources.chain(data).chain([Type::Dynamic]).collect()
}

fuzz_target!(|input: &[u8]| {
    // The first byte picks the type, the rest is the value.
    let Some((&pick, bytes)) = input.split_first() else {
        return;
    };
    let types = types();
    let ty = &types[usize::from(pick) % types.len()];

    let Ok(value) = msgpack::decode(bytes, ty) else {
        return;
    };
    let encoded = msgpack::encode(&value, ty);
    let again = msgpack::decode(&encoded, ty).expect("an encoded value decodes");
    assert_eq!(again, value, "the value changed in a round trip");
});
