//! Checks the field numbers that are easy to get wrong by encoding messages and reading the
//! tag bytes back: a tag byte is `field_number << 3 | wire_type`.

use hipaa_proto::plugin::ConnInfo;
use hipaa_proto::tfplugin6::{
    apply_resource_change, get_provider_schema, schema, stop_provider, validate_provider_config,
    Diagnostic, DynamicValue, Schema,
};
use prost::Message;

/// Wire type 2: length-delimited (strings, bytes, messages).
fn length_delimited_tag(field: u8) -> u8 {
    (field << 3) | 2
}

#[test]
fn validate_provider_config_diagnostics_are_field_two() {
    let response = validate_provider_config::Response {
        diagnostics: vec![Diagnostic::default()],
    };
    assert_eq!(response.encode_to_vec()[0], length_delimited_tag(2));
}

#[test]
fn nested_type_is_field_ten_and_write_only_eleven() {
    let attribute = schema::Attribute {
        nested_type: Some(schema::Object::default()),
        ..Default::default()
    };
    assert_eq!(attribute.encode_to_vec(), vec![length_delimited_tag(10), 0]);

    let write_only = schema::Attribute {
        write_only: true,
        ..Default::default()
    };
    assert_eq!(write_only.encode_to_vec(), vec![11 << 3, 1]);
}

#[test]
fn object_nesting_is_field_three() {
    let object = schema::Object {
        nesting: schema::object::NestingMode::List as i32,
        ..Default::default()
    };
    assert_eq!(object.encode_to_vec(), vec![3 << 3, 2]);
}

#[test]
fn schema_response_functions_are_field_seven() {
    let mut response = get_provider_schema::Response::default();
    response
        .functions
        .insert("f".to_string(), Default::default());
    assert_eq!(response.encode_to_vec()[0], length_delimited_tag(7));

    let mut ephemeral = get_provider_schema::Response::default();
    ephemeral
        .ephemeral_resource_schemas
        .insert("e".to_string(), Schema::default());
    assert_eq!(ephemeral.encode_to_vec()[0], length_delimited_tag(8));
}

#[test]
fn apply_response_private_is_two_and_diagnostics_three() {
    let response = apply_resource_change::Response {
        private: vec![7],
        diagnostics: vec![Diagnostic::default()],
        ..Default::default()
    };
    let bytes = response.encode_to_vec();
    assert_eq!(bytes[0], length_delimited_tag(2));
    assert_eq!(bytes[3], length_delimited_tag(3));
}

#[test]
fn stop_provider_error_is_field_one() {
    let response = stop_provider::Response {
        error: "x".to_string(),
    };
    assert_eq!(
        response.encode_to_vec(),
        vec![length_delimited_tag(1), 1, b'x']
    );
}

#[test]
fn dynamic_value_json_is_field_two() {
    let value = DynamicValue {
        msgpack: vec![],
        json: b"{}".to_vec(),
    };
    assert_eq!(
        value.encode_to_vec(),
        vec![length_delimited_tag(2), 2, b'{', b'}']
    );
}

#[test]
fn conn_info_knock_is_field_four() {
    let info = ConnInfo {
        knock: Some(Default::default()),
        ..Default::default()
    };
    assert_eq!(info.encode_to_vec(), vec![length_delimited_tag(4), 0]);
}
