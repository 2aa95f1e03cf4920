//! The resources and data sources of the provider, and the checks they share.

pub mod access_role;
pub mod baa;
pub mod boundary;
pub mod compliance_status;
pub mod license;
pub mod phi_system;
pub mod security_review;
pub mod tls_policy;

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::resource::{get_str, Context, DataSource, Object, Resource};
use crate::schema::Attribute;
use crate::value::{Type, Value};
use hipaa_ledger::Record;

/// Every resource type, in documentation order.
pub fn all_resources() -> Vec<Box<dyn Resource>> {
    vec![
        Box::new(license::License),
        Box::new(boundary::Boundary),
        Box::new(phi_system::PhiSystem),
        Box::new(baa::Baa),
        Box::new(access_role::AccessRole),
        Box::new(security_review::SecurityReview),
    ]
}

pub fn all_data_sources() -> Vec<Box<dyn DataSource>> {
    vec![
        Box::new(tls_policy::TlsPolicyData),
        Box::new(compliance_status::ComplianceStatus),
    ]
}

/// Every type a value from Terraform is decoded against: each resource's and data source's
/// object type, in documentation order, then `dynamic`. The msgpack fuzz target picks one by
/// an input's first byte, so its saved inputs depend on this order.
pub fn all_value_types() -> Vec<Type> {
    let resources = all_resources()
        .into_iter()
        .map(|r| r.schema().object_type());
    let data = all_data_sources()
        .into_iter()
        .map(|d| d.schema().object_type());
    resources.chain(data).chain([Type::Dynamic]).collect()
}

/// The `license_id` attribute of everything bound to a license.
pub fn license_id_attribute() -> Attribute {
    Attribute::required(
        "license_id",
        Type::String,
        "The `id` of the `hipaa_license` this is bound to. Changing it replaces the object.",
    )
    .requires_replace()
}

/// Checks that attribute `name` of a plan, when known, names a live object of
/// `resource_type` in the ledger, and returns that object's newest record.
pub fn require_live(
    context: &Context,
    planned: &Object,
    name: &str,
    resource_type: &str,
    diagnostics: &mut Diagnostics,
) -> Option<Record> {
    let id = get_str(planned, name)?;
    let record = context.live_record(resource_type, id);
    if record.is_none() {
        diagnostics.attribute_error(
            AttributePath::root(name),
            "Unknown reference",
            format!(
                "The ledger has no live {resource_type} with id {id:?}; refer to one declared \
                 in this configuration or recorded earlier."
            ),
        );
    }
    record
}

/// Reads a boolean from a ledger record.
pub fn record_bool(record: &Record, name: &str) -> Option<bool> {
    record
        .attributes
        .get(name)
        .and_then(serde_json::Value::as_bool)
}

pub fn record_i64(record: &Record, name: &str) -> Option<i64> {
    record
        .attributes
        .get(name)
        .and_then(serde_json::Value::as_i64)
}

pub fn record_str<'a>(record: &'a Record, name: &str) -> Option<&'a str> {
    record
        .attributes
        .get(name)
        .and_then(serde_json::Value::as_str)
}

pub fn record_strings(record: &Record, name: &str) -> Vec<String> {
    record
        .attributes
        .get(name)
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a BAA record has expired by `today` (days since 1970-01-01).
pub fn baa_expired(record: &Record, today: i64) -> bool {
    record_str(record, "expiration_date")
        .and_then(crate::dates::parse_date)
        .is_some_and(|expires| expires < today)
}

pub fn value_is_known_false(object: &Object, name: &str) -> bool {
    matches!(object.get(name), Some(Value::Bool(false)))
}
