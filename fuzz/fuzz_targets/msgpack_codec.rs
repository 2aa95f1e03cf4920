//! Arbitrary bytes decoded as a `DynamicValue` against the types of the provider's own
//! schemas. What decodes must encode and decode back to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_hipaa::msgpack;
use terraform_provider_hipaa::resources::all_value_types;

fuzz_target!(|input: &[u8]| {
    // The first byte picks the type, the rest is the value.
    let Some((&pick, bytes)) = input.split_first() else {
        return;
    };
    let types = all_value_types();
    let ty = &types[usize::from(pick) % types.len()];

    let Ok(value) = msgpack::decode(bytes, ty) else {
        return;
    };
    let encoded = msgpack::encode(&value, ty);
    let again = msgpack::decode(&encoded, ty).expect("an encoded value decodes");
    assert_eq!(again, value, "the value changed in a round trip");
});
