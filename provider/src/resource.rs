//! What every resource and data source implements, and the lifecycle the provider runs for
//! all of them: plan (defaults, unknown computed values, plan modifiers, resource checks),
//! apply (fill computed values, append a ledger record), read (the ledger says whether the
//! object still exists), import by id.

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::schema::{PlanModifier, Presence, Schema};
use crate::value::{Type, Value};
use hipaa_ledger::{Action, Entry, LedgerBackend, LedgerError, Record};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The attributes of one object by name.
pub type Object = BTreeMap<String, Value>;

/// What resources can consult while planning and applying.
pub struct Context<'a> {
    pub ledger: &'a dyn LedgerBackend,
    /// Today, in days since 1970-01-01 (UTC).
    pub today: i64,
    /// The first ledger read that failed. A compliance answer built on an unreadable ledger
    /// would be wrong, so the call reports this as an error instead of its result.
    failure: RefCell<Option<String>>,
}

impl<'a> Context<'a> {
    pub fn new(ledger: &'a dyn LedgerBackend, today: i64) -> Context<'a> {
        Context {
            ledger,
            today,
            failure: RefCell::new(None),
        }
    }

    /// Why reading the ledger failed during this call, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.borrow().clone()
    }

    fn note_failure(&self, error: LedgerError) {
        let mut failure = self.failure.borrow_mut();
        if failure.is_none() {
            *failure = Some(error.to_string());
        }
    }

    /// Every record, oldest first; empty (with the failure noted) when unreadable.
    pub fn records(&self) -> Vec<Record> {
        self.ledger.records().unwrap_or_else(|error| {
            self.note_failure(error);
            Vec::new()
        })
    }

    /// The newest ledger record of a live object, or `None` when it was never recorded or was
    /// retired.
    pub fn live_record(&self, resource_type: &str, id: &str) -> Option<Record> {
        match self.ledger.latest(resource_type, id) {
            Ok(Some(record)) if record.action != Action::Retire => Some(record),
            Ok(_) => None,
            Err(error) => {
                self.note_failure(error);
                None
            }
        }
    }

    /// Every live object of one type, by id, from its newest record.
    pub fn live_objects(&self, resource_type: &str) -> BTreeMap<String, Record> {
        let mut live = BTreeMap::new();
        for record in self.records() {
            if record.resource_type != resource_type {
                continue;
            }
            if record.action == Action::Retire {
                live.remove(&record.resource_id);
            } else {
                live.insert(record.resource_id.clone(), record);
            }
        }
        live
    }

    /// Adds the ledger failure, if any, to `diagnostics`; true when there was one.
    pub fn report_failure(&self, diagnostics: &mut Diagnostics) -> bool {
        match self.failure() {
            Some(reason) => {
                diagnostics.error("Cannot read the attestation ledger", reason);
                true
            }
            None => false,
        }
    }
}

pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// The start of every id this resource hands out, e.g. `lic-`.
    fn id_prefix(&self) -> &'static str;

    /// Checks across attributes of a configuration that may still hold unknowns.
    fn validate_config(&self, _config: &Object, _diagnostics: &mut Diagnostics) {}

    /// Adjusts a planned create or update and refuses plans that break HIPAA terms recorded
    /// in the ledger (the framework's ModifyPlan). It also runs for an object the plan leaves
    /// unchanged; [`plan_change`] then turns its errors into warnings. It never runs for a
    /// destroy.
    fn modify_plan(
        &self,
        _context: &Context,
        _planned: &mut Object,
        _prior: Option<&Object>,
        _diagnostics: &mut Diagnostics,
    ) {
    }

    /// Fills the computed values still unknown at apply time and makes the checks that could
    /// not be made at plan time.
    fn complete(&self, _context: &Context, _state: &mut Object, _diagnostics: &mut Diagnostics) {}

    /// Recomputes derived values when the object is read back.
    fn refresh(&self, _context: &Context, _state: &mut Object) {}
}

pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn read(&self, context: &Context, config: &Object, diagnostics: &mut Diagnostics) -> Object;
}

/// The outcome of planning one change.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Added to a check's finding about an object the plan leaves unchanged.
pub const UNCHANGED_OBJECT_NOTE: &str = "The plan leaves this object unchanged, so this is a \
     warning; any change to the object is refused until this is resolved. Destroying it is \
     always possible.";

/// Plans a create, update or destroy the way Terraform's rules require. A destroy is never
/// refused.
pub fn plan_change(
    resource: &dyn Resource,
    schema: &Schema,
    context: &Context,
    prior: &Value,
    proposed: &Value,
    config: &Value,
    diagnostics: &mut Diagnostics,
) -> Plan {
    let Value::Map(proposed) = proposed else {
        // A destroy: the planned state is null.
        return Plan {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    };
    let prior = prior.as_map();
    let config = config.as_map();
    let configured = |name: &str| {
        config
            .and_then(|fields| fields.get(name))
            .is_some_and(|value| !value.is_null())
    };

    let mut planned = proposed.clone();
    for attribute in &schema.attributes {
        if let (Some(default), false) = (&attribute.default, configured(attribute.name)) {
            planned.insert(attribute.name.to_string(), default.clone());
        }
    }

    // A new or changed object gets fresh computed values; an unchanged one plans no change.
    let unchanged = prior == Some(&planned);
    if !unchanged {
        for attribute in &schema.attributes {
            let provider_sets = attribute.presence == Presence::Computed
                || (attribute.presence == Presence::OptionalComputed
                    && attribute.default.is_none()
                    && !configured(attribute.name));
            if !provider_sets {
                continue;
            }
            let keep_prior = attribute
                .plan_modifiers
                .contains(&PlanModifier::UseStateForUnknown);
            let prior_value = prior.and_then(|fields| fields.get(attribute.name));
            let value = match prior_value {
                Some(value) if keep_prior && !value.is_null() => value.clone(),
                _ => Value::unknown(),
            };
            planned.insert(attribute.name.to_string(), value);
        }
    }

    // Terraform plans every object in the configuration before it plans a destroy, and
    // gives up on the destroy when that plan fails. A check that refused an unchanged object
    // would therefore make it impossible to destroy, so for an unchanged object the checks
    // warn: the plan goes on, and the next change to the object is refused.
    let mut checks = Diagnostics::default();
    resource.modify_plan(context, &mut planned, prior, &mut checks);
    if unchanged {
        checks.downgrade_errors(UNCHANGED_OBJECT_NOTE);
    }
    diagnostics.extend(checks);

    let mut requires_replace = Vec::new();
    if let Some(prior) = prior {
        for attribute in &schema.attributes {
            let replaces = attribute
                .plan_modifiers
                .contains(&PlanModifier::RequiresReplace);
            if replaces && prior.get(attribute.name) != planned.get(attribute.name) {
                requires_replace.push(AttributePath::root(attribute.name));
            }
        }
    }

    // An unreadable ledger stays an error even for an unchanged object: nothing could be
    // checked, and the ledger needs repair before more is recorded in it.
    context.report_failure(diagnostics);
    Plan {
        planned: Value::Map(planned),
        requires_replace,
    }
}

/// Carries out a planned change and records it in the ledger. Returns the new state, or
/// `None` when the change failed (Terraform then keeps the prior state).
pub fn apply_change(
    resource: &dyn Resource,
    schema: &Schema,
    context: &Context,
    prior: &Value,
    planned: &Value,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let Value::Map(planned) = planned else {
        let prior = prior.as_map()?;
        let id = prior.get("id").and_then(Value::as_str).unwrap_or_default();
        let entry = ledger_entry(schema, resource.type_name(), id, Action::Retire, prior);
        if let Err(error) = context.ledger.append(entry) {
            diagnostics.error(
                "Cannot record the retirement in the ledger",
                error.to_string(),
            );
            return None;
        }
        return Some(Value::Null);
    };

    let mut state = planned.clone();
    if state.get("id").is_none_or(Value::is_unknown) {
        state.insert(
            "id".to_string(),
            Value::string(new_id(resource.id_prefix())),
        );
    }
    resource.complete(context, &mut state, diagnostics);
    context.report_failure(diagnostics);
    if diagnostics.has_errors() {
        return None;
    }
    if let Some((name, _)) = state.iter().find(|(_, value)| !value.is_wholly_known()) {
        diagnostics.attribute_error(
            AttributePath::root(name),
            "Value still unknown after apply",
            "The provider could not compute this value; this is a bug in the provider.",
        );
        return None;
    }

    let action = if prior.is_null() {
        Action::Create
    } else {
        Action::Update
    };
    let id = state.get("id").and_then(Value::as_str).unwrap_or_default();
    let entry = ledger_entry(schema, resource.type_name(), id, action, &state);
    if let Err(error) = context.ledger.append(entry) {
        diagnostics.error("Cannot record the change in the ledger", error.to_string());
        return None;
    }
    Some(Value::Map(state))
}

/// Reads an object back: gone (null) when the ledger has no live record of it, otherwise the
/// ledger's newest attributes over the current state. An unreadable ledger is an error, and
/// the current state is kept: it must not look as if the object were gone.
pub fn read_object(
    resource: &dyn Resource,
    schema: &Schema,
    context: &Context,
    current: &Value,
    diagnostics: &mut Diagnostics,
) -> Value {
    let Some(fields) = current.as_map() else {
        return Value::Null;
    };
    let id = fields.get("id").and_then(Value::as_str).unwrap_or_default();
    let record = context.live_record(resource.type_name(), id);
    if context.report_failure(diagnostics) {
        return current.clone();
    }
    let Some(record) = record else {
        return Value::Null;
    };
    let mut state = fields.clone();
    overlay_record(schema, &record, &mut state);
    resource.refresh(context, &mut state);
    Value::Map(state)
}

/// The state of an object being imported by id, from its newest ledger record.
pub fn import_object(
    resource: &dyn Resource,
    schema: &Schema,
    context: &Context,
    id: &str,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    let record = context.live_record(resource.type_name(), id);
    if context.report_failure(diagnostics) {
        return None;
    }
    let Some(record) = record else {
        diagnostics.error(
            "Cannot import",
            format!(
                "The ledger has no live {} with id {id:?}. Only declarations recorded in the \
                 ledger can be imported.",
                resource.type_name()
            ),
        );
        return None;
    };
    let mut state: Object = schema
        .attributes
        .iter()
        .map(|attribute| (attribute.name.to_string(), Value::Null))
        .collect();
    overlay_record(schema, &record, &mut state);
    state.insert("id".to_string(), Value::string(id));
    resource.refresh(context, &mut state);
    Some(Value::Map(state))
}

fn overlay_record(schema: &Schema, record: &Record, state: &mut Object) {
    for attribute in &schema.attributes {
        if let Some(json) = record.attributes.get(attribute.name) {
            if let Ok(value) = Value::from_json(json, &attribute.ty) {
                state.insert(attribute.name.to_string(), value);
            }
        }
    }
}

/// The ledger entry of a change: every attribute except sensitive ones.
fn ledger_entry(
    schema: &Schema,
    resource_type: &str,
    id: &str,
    action: Action,
    state: &Object,
) -> Entry {
    let attributes = schema
        .attributes
        .iter()
        .filter(|attribute| !attribute.sensitive && attribute.name != "id")
        .map(|attribute| {
            let value = state.get(attribute.name).unwrap_or(&Value::Null);
            (attribute.name.to_string(), value.to_json())
        })
        .collect();
    Entry {
        action,
        resource_type: resource_type.to_string(),
        resource_id: id.to_string(),
        attributes,
    }
}

static ID_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh id: the prefix and 16 hex digits that differ across processes and calls.
pub fn new_id(prefix: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(std::process::id().to_be_bytes());
    hasher.update(ID_COUNTER.fetch_add(1, Ordering::SeqCst).to_be_bytes());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    hasher.update(nanos.to_be_bytes());
    let digest = hasher.finalize();
    let suffix: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{suffix}")
}

/// Reads attribute `name` of an object as a string, when known.
pub fn get_str<'a>(object: &'a Object, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}

pub fn get_i64(object: &Object, name: &str) -> Option<i64> {
    object.get(name).and_then(Value::as_i64)
}

pub fn get_bool(object: &Object, name: &str) -> Option<bool> {
    object.get(name).and_then(Value::as_bool)
}

/// The known strings of a list attribute, with their positions.
pub fn get_strings(object: &Object, name: &str) -> Vec<(usize, String)> {
    object
        .get(name)
        .and_then(Value::as_list)
        .map(|items| {
            items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| item.as_str().map(|text| (index, text.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A list of strings as a value.
pub fn string_list(items: &[String]) -> Value {
    Value::List(
        items
            .iter()
            .map(|item| Value::string(item.clone()))
            .collect(),
    )
}

/// The type of a list of strings, the most common collection in these schemas.
pub fn strings() -> Type {
    Type::list_of(Type::String)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::license::License;
    use hipaa_ledger::DirectoryLedger;

    fn scratch_ledger(name: &str) -> (DirectoryLedger, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("hipaa-plan-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (DirectoryLedger::open(&dir), dir)
    }

    fn config(fields: &[(&str, Value)], schema: &Schema) -> Value {
        let mut object: Object = schema
            .attributes
            .iter()
            .map(|attribute| (attribute.name.to_string(), Value::Null))
            .collect();
        for (name, value) in fields {
            object.insert(name.to_string(), value.clone());
        }
        Value::Map(object)
    }

    /// Applies the creation of a license planned as `planned`, as Terraform would.
    fn apply_created(planned: &Value, ledger: &DirectoryLedger) -> Value {
        let context = Context::new(ledger, 20_000);
        let mut diagnostics = Diagnostics::default();
        let state = apply_change(
            &License,
            &License.schema(),
            &context,
            &Value::Null,
            planned,
            &mut diagnostics,
        );
        assert!(!diagnostics.has_errors(), "{diagnostics:?}");
        state.expect("a created license has a state")
    }

    fn plan(prior: &Value, config: &Value, ledger: &DirectoryLedger) -> (Plan, Diagnostics) {
        let schema = License.schema();
        let context = Context::new(ledger, 20_000);
        let mut diagnostics = Diagnostics::default();
        // For these tests the proposed state is the config over the prior computed values,
        // as Terraform builds it.
        let mut proposed = config.as_map().unwrap().clone();
        if let Some(prior) = prior.as_map() {
            for attribute in schema.attributes.iter().filter(|a| a.is_computed()) {
                if proposed[attribute.name].is_null() {
                    proposed.insert(attribute.name.to_string(), prior[attribute.name].clone());
                }
            }
        }
        let plan = plan_change(
            &License,
            &schema,
            &context,
            prior,
            &Value::Map(proposed),
            config,
            &mut diagnostics,
        );
        (plan, diagnostics)
    }

    fn basic_config() -> Value {
        config(
            &[
                ("name", Value::string("acme")),
                ("version", Value::string("1")),
            ],
            &License.schema(),
        )
    }

    #[test]
    fn create_applies_defaults_and_leaves_the_id_unknown() {
        let (ledger, dir) = scratch_ledger("create");
        let (plan, diagnostics) = plan(&Value::Null, &basic_config(), &ledger);
        assert!(!diagnostics.has_errors(), "{diagnostics:?}");
        let planned = plan.planned.as_map().unwrap();
        assert!(planned["id"].is_unknown());
        assert_eq!(planned["breach_notification_days"], Value::int(60));
        assert_eq!(planned["min_tls_version"], Value::string("1.2"));
        assert_eq!(planned["log_retention_days"], Value::Null);
        assert!(plan.requires_replace.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn apply_keeps_every_planned_value_and_records_it() {
        let (ledger, dir) = scratch_ledger("apply");
        let (plan, _) = plan(&Value::Null, &basic_config(), &ledger);
        let state = apply_created(&plan.planned, &ledger);
        let (planned, state) = (plan.planned.as_map().unwrap(), state.as_map().unwrap());
        for (name, value) in planned {
            if !value.is_unknown() {
                assert_eq!(&state[name], value, "{name}");
            }
        }
        assert!(state["id"].as_str().unwrap().starts_with("lic-"));
        let records = ledger.records().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].attributes["breach_notification_days"],
            serde_json::json!(60)
        );
        assert!(!records[0].attributes.contains_key("id"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn unchanged_object_plans_no_change_and_update_keeps_the_id() {
        let (ledger, dir) = scratch_ledger("unchanged");
        let (created, _) = plan(&Value::Null, &basic_config(), &ledger);
        let mut prior = created.planned.as_map().unwrap().clone();
        prior.insert("id".to_string(), Value::string("lic-1"));
        let prior = Value::Map(prior);

        let (same, _) = plan(&prior, &basic_config(), &ledger);
        assert_eq!(same.planned, prior);

        let mut changed = basic_config().as_map().unwrap().clone();
        changed.insert("version".to_string(), Value::string("2"));
        let (update, _) = plan(&prior, &Value::Map(changed), &ledger);
        assert_eq!(
            update.planned.as_map().unwrap()["id"],
            Value::string("lic-1")
        );
        assert!(update.requires_replace.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renaming_requires_replacement_and_destroy_plans_null() {
        let (ledger, dir) = scratch_ledger("replace");
        let (created, _) = plan(&Value::Null, &basic_config(), &ledger);
        let prior = created.planned;
        let mut renamed = basic_config().as_map().unwrap().clone();
        renamed.insert("name".to_string(), Value::string("other"));
        let (replace, _) = plan(&prior, &Value::Map(renamed), &ledger);
        assert_eq!(replace.requires_replace, vec![AttributePath::root("name")]);

        let schema = License.schema();
        let context = Context::new(&ledger, 20_000);
        let mut diagnostics = Diagnostics::default();
        let destroy = plan_change(
            &License,
            &schema,
            &context,
            &prior,
            &Value::Null,
            &Value::Null,
            &mut diagnostics,
        );
        assert_eq!(destroy.planned, Value::Null);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_unchanged_object_is_warned_about_a_changed_one_refused_and_a_destroy_never() {
        use crate::diagnostics::Severity;
        use crate::resources::baa::Baa;

        let (ledger, dir) = scratch_ledger("expired");
        let schema = Baa.schema();
        let today = crate::dates::parse_date("2026-03-01").unwrap();
        let context = Context::new(&ledger, today);
        let lapsed = config(
            &[
                ("vendor", Value::string("Vendor")),
                ("services", string_list(&["s3".to_string()])),
                ("effective_date", Value::string("2024-01-01")),
                ("expiration_date", Value::string("2025-12-31")),
            ],
            &schema,
        );
        let plan_with = |prior: &Value, proposed: &Value| {
            let mut diagnostics = Diagnostics::default();
            let plan = plan_change(
                &Baa,
                &schema,
                &context,
                prior,
                proposed,
                proposed,
                &mut diagnostics,
            );
            let severities: Vec<Severity> = diagnostics.0.iter().map(|d| d.severity).collect();
            (plan, severities, diagnostics)
        };

        let (created, severities, _) = plan_with(&Value::Null, &lapsed);
        assert_eq!(severities, [Severity::Error], "a new expired agreement");

        let mut prior = created.planned.as_map().unwrap().clone();
        prior.insert("id".to_string(), Value::string("baa-1"));
        let prior = Value::Map(prior);
        let (same, severities, diagnostics) = plan_with(&prior, &prior);
        assert_eq!(same.planned, prior);
        assert_eq!(severities, [Severity::Warning], "unchanged");
        assert!(diagnostics.0[0].detail.ends_with(UNCHANGED_OBJECT_NOTE));

        let mut changed = prior.as_map().unwrap().clone();
        changed.insert("vendor".to_string(), Value::string("Other"));
        let (_, severities, _) = plan_with(&prior, &Value::Map(changed));
        assert_eq!(severities, [Severity::Error], "changed");

        let (destroy, severities, _) = plan_with(&prior, &Value::Null);
        assert_eq!(destroy.planned, Value::Null);
        assert!(severities.is_empty(), "{severities:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn unknown_terms_are_not_judged_until_known() {
        let (ledger, dir) = scratch_ledger("unknown");
        let mut unknown_days = basic_config().as_map().unwrap().clone();
        unknown_days.insert("breach_notification_days".to_string(), Value::unknown());
        let (_, diagnostics) = plan(&Value::Null, &Value::Map(unknown_days), &ledger);
        assert!(!diagnostics.has_errors(), "{diagnostics:?}");

        let mut too_late = basic_config().as_map().unwrap().clone();
        too_late.insert("breach_notification_days".to_string(), Value::int(90));
        let (_, diagnostics) = plan(&Value::Null, &Value::Map(too_late), &ledger);
        assert_eq!(
            diagnostics.0[0].attribute,
            Some(AttributePath::root("breach_notification_days"))
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_unreadable_ledger_is_an_error_not_a_vanished_object() {
        let (ledger, dir) = scratch_ledger("corrupt");
        let (plan, _) = plan(&Value::Null, &basic_config(), &ledger);
        let state = apply_created(&plan.planned, &ledger);
        std::fs::write(dir.join("00000000000000000002.json"), "not a record").unwrap();

        let fresh = DirectoryLedger::open(&dir);
        let context = Context::new(&fresh, 20_000);
        let mut diagnostics = Diagnostics::default();
        let read = read_object(
            &License,
            &License.schema(),
            &context,
            &state,
            &mut diagnostics,
        );
        assert_eq!(read, state, "the state must be kept");
        assert_eq!(
            diagnostics.0[0].summary,
            "Cannot read the attestation ledger"
        );
        assert!(
            diagnostics.0[0].detail.contains("not a ledger record"),
            "{diagnostics:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
