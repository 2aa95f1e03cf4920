//! Reads a plan in one pass as the parser meets it, gathering per instance address what
//! each section says: values and sensitive markers from `planned_values`, actions and markers
//! from `resource_changes`, data sources read while planning from `prior_state`, and the
//! `configuration`. Only the values of instances that will be kept are built; every other part
//! of the file (the `before` values, the rest of the prior state, variables, outputs) is
//! skipped without building anything.
//!
//! Planned values and a change's `after` are the same object in Terraform's output (both leave
//! out unknown values); whichever comes first in the file is read, and the other skipped. In
//! Terraform's output that is `planned_values`.

use super::mapped::DropBehind;
use super::schema::{Action, Configuration, IndexKey};
use super::values::{LentText, Marks, PlanAttributes};
use crate::address_hash::AddressMap;
use crate::value::Value;
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The keys of the objects this module reads, told apart without allocating a string for each
/// (there are tens of them per resource).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    FormatVersion,
    PlannedValues,
    ResourceChanges,
    PriorState,
    Configuration,
    Values,
    RootModule,
    Resources,
    ChildModules,
    Address,
    ModuleAddress,
    Mode,
    Type,
    Name,
    Index,
    SensitiveValues,
    Deposed,
    Change,
    Actions,
    After,
    AfterUnknown,
    AfterSensitive,
    Other,
}

impl Field {
    /// The field a key names, by a `match` rather than a search of a list of names, which
    /// compared each key with every name until one matched.
    fn named(name: &str) -> Field {
        match name {
            "format_version" => Field::FormatVersion,
            "planned_values" => Field::PlannedValues,
            "resource_changes" => Field::ResourceChanges,
            "prior_state" => Field::PriorState,
            "configuration" => Field::Configuration,
            "values" => Field::Values,
            "root_module" => Field::RootModule,
            "resources" => Field::Resources,
            "child_modules" => Field::ChildModules,
            "address" => Field::Address,
            "module_address" => Field::ModuleAddress,
            "mode" => Field::Mode,
            "type" => Field::Type,
            "name" => Field::Name,
            "index" => Field::Index,
            "sensitive_values" => Field::SensitiveValues,
            "deposed" => Field::Deposed,
            "change" => Field::Change,
            "actions" => Field::Actions,
            "after" => Field::After,
            "after_unknown" => Field::AfterUnknown,
            "after_sensitive" => Field::AfterSensitive,
            _ => Field::Other,
        }
    }
}

impl<'de> de::Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct FieldVisitor;

        impl Visitor<'_> for FieldVisitor {
            type Value = Field;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(Field::named(name))
            }
        }

        // Read as a string, not as bytes, although bytes would be a little quicker: serde_json
        // reads bytes without refusing control characters, which JSON forbids in strings.
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// What the plan says about one resource instance.
#[derive(Debug, Default)]
pub struct Instance {
    pub address: String,
    pub module_address: Option<String>,
    pub mode: String,
    pub resource_type: String,
    pub name: String,
    pub key: Option<IndexKey>,
    pub values: Option<Value>,
    /// The values came from the prior state; planned values or a change replace them.
    values_from_prior: bool,
    pub unknown: Marks,
    pub sensitive: Vec<Marks>,
    /// The plan destroys it (or lets go of it) and creates nothing in its place.
    pub removed: bool,
}

/// What the plan says of itself, outside its resources.
#[derive(Default)]
pub struct Facts {
    pub format_version: Option<String>,
    /// A top-level `values`, as `terraform show -json` writes for a state.
    pub has_state_values: bool,
    pub has_planned_values: bool,
    pub has_resource_changes: bool,
    pub configuration: Option<Configuration>,
}

impl Facts {
    /// Takes in what a later part of the same plan said: where both say a thing, the later
    /// word stands, as it would for a plan read front to back.
    pub fn then(&mut self, later: Facts) {
        if later.format_version.is_some() {
            self.format_version = later.format_version;
        }
        self.has_state_values |= later.has_state_values;
        self.has_planned_values |= later.has_planned_values;
        self.has_resource_changes |= later.has_resource_changes;
        if later.configuration.is_some() {
            self.configuration = later.configuration;
        }
    }
}

/// Everything gathered from one plan.
#[derive(Default)]
pub struct Gathered {
    pub facts: Facts,
    /// In order of first appearance.
    pub instances: Vec<Instance>,
    by_address: AddressMap<String, usize>,
    /// Given the place of each resource read, when the plan is a mapped file.
    pub drop_behind: Option<DropBehind>,
}

impl Gathered {
    fn knows(&self, address: &str) -> bool {
        self.by_address.contains_key(address)
    }

    /// True when an instance has values that another section need not give again.
    fn has_values(&self, address: &str) -> bool {
        self.by_address.get(address).is_some_and(|&i| {
            let instance = &self.instances[i];
            instance.values.is_some() && !instance.values_from_prior
        })
    }

    fn instance(&mut self, head: Head<'_>) -> &mut Instance {
        let index = self.instance_index(head);
        &mut self.instances[index]
    }

    /// The place in `instances` of the instance `head` names, added if it is new.
    fn instance_index(&mut self, head: Head<'_>) -> usize {
        // Looked up before inserting: most heads name an instance met already (a change after
        // the planned values), and the table's key is a copy of the address.
        if let Some(&i) = self.by_address.get(head.address.as_ref()) {
            return i;
        }

        let next = self.instances.len();
        let address = head.address.into_owned();
        self.by_address.insert(address.clone(), next);
        self.instances.push(Instance {
            address,
            mode: head.mode.into_owned(),
            resource_type: head.resource_type.into_owned(),
            name: head.name.into_owned(),
            key: head.key,
            ..Instance::default()
        });
        next
    }

    /// What to do with the `values` of a state resource, given the `mode` and `address` its
    /// entry gave before them.
    pub(super) fn wanted_values(
        &self,
        section: Section,
        mode: Option<&str>,
        address: Option<&str>,
    ) -> Wanted {
        // Terraform writes the address and mode first, so values that will not be kept are
        // skipped unread.
        let skip = match section {
            Section::Planned => address.is_some_and(|a| self.has_values(a)),
            Section::Prior => {
                mode.is_some_and(|mode| mode != "data") || address.is_some_and(|a| self.knows(a))
            }
        };
        if skip {
            Wanted::Skip
        } else {
            Wanted::Read
        }
    }

    /// What to do with the `after` of a change, given the `address` its entry gave before it.
    pub(super) fn wanted_after(&self, address: Option<&str>) -> Wanted {
        if address.is_some_and(|a| self.has_values(a)) {
            Wanted::Skip
        } else {
            Wanted::Read
        }
    }

    /// Takes in a resource of `planned_values` or `prior_state`, with its values if they were
    /// wanted. Returns the index of the instance when it kept the values given.
    pub(super) fn add_state_resource(
        &mut self,
        section: Section,
        head: Head<'_>,
        values: Option<Value>,
        sensitive: Marks,
    ) -> Option<usize> {
        match section {
            Section::Planned => {
                let firm = self.has_values(&head.address);
                let index = self.instance_index(head);
                let instance = &mut self.instances[index];
                let kept = match (values, firm) {
                    (Some(values), false) => {
                        instance.values = Some(values);
                        instance.values_from_prior = false;
                        Some(index)
                    }
                    _ => None,
                };
                if !sensitive.is_none() {
                    instance.sensitive.push(sensitive);
                }
                kept
            }
            // Only data sources read while planning, which no other section lists.
            Section::Prior => {
                if head.mode != "data" || self.knows(&head.address) {
                    return None;
                }
                let index = self.instance_index(head);
                let instance = &mut self.instances[index];
                let kept = values.is_some().then_some(index);
                instance.values = values;
                instance.values_from_prior = true;
                if !sensitive.is_none() {
                    instance.sensitive.push(sensitive);
                }
                kept
            }
        }
    }

    /// Takes in an entry of `resource_changes`, with its `after` if it was wanted.
    pub(super) fn add_change(
        &mut self,
        head: Head<'_>,
        module_address: Option<String>,
        deposed: bool,
        change: ChangeParts<Option<Value>>,
    ) {
        if deposed {
            return;
        }
        let firm = self.has_values(&head.address);
        let instance = self.instance(head);
        if module_address.is_some() {
            instance.module_address = module_address;
        }
        if is_removal(&change.actions) {
            instance.removed = true;
            return;
        }
        if let (Some(after), false) = (change.after, firm) {
            if !after.is_null() {
                instance.values = Some(after);
                instance.values_from_prior = false;
            }
        }
        instance.unknown = change.unknown;
        if !change.sensitive.is_none() {
            instance.sensitive.push(change.sensitive);
        }
    }
}

/// What the reader of a resource entry does with the values it meets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Wanted {
    /// Build them now.
    Read,
    /// Pass over them: they will not be kept.
    Skip,
    /// Keep where they are in the text, to be built later if they are kept then.
    Place,
}

/// Values as the reader of an entry took them.
pub(super) enum Taken<'de> {
    None,
    Built(Value),
    /// The values' JSON text, lent by the input.
    Text(&'de str),
}

/// Where the readers of a plan put the resources they read: a [`Gathered`] for a plan read
/// front to back, or a recorder of entries for the later part of a plan read in two parts at
/// once (see `split`), whose entries are taken into the earlier part's [`Gathered`] after.
pub(super) trait Sink<'de> {
    fn facts(&mut self) -> &mut Facts;

    /// What to do with the `values` of a state resource, given the `mode` and `address` its
    /// entry gave before them.
    fn wants_values(&self, section: Section, mode: Option<&str>, address: Option<&str>) -> Wanted;

    /// What to do with the `after` of a change, given the `address` its entry gave before it.
    fn wants_after(&self, address: Option<&str>) -> Wanted;

    /// What hands back the pages of the input the parser has passed, if anything does.
    fn drop_behind(&mut self) -> Option<&mut DropBehind>;

    /// Says that the parser has passed the entry one of whose strings is at `at`.
    fn passed(&mut self, at: Option<*const u8>) {
        if let (Some(drop_behind), Some(at)) = (self.drop_behind(), at) {
            drop_behind.passed(at);
        }
    }

    fn state_resource(
        &mut self,
        section: Section,
        head: Head<'de>,
        values: Taken<'de>,
        sensitive: Marks,
    );

    fn change(
        &mut self,
        head: Head<'de>,
        module_address: Option<String>,
        deposed: bool,
        change: ChangeParts<Taken<'de>>,
    );
}

impl<'de> Sink<'de> for Gathered {
    fn facts(&mut self) -> &mut Facts {
        &mut self.facts
    }

    fn wants_values(&self, section: Section, mode: Option<&str>, address: Option<&str>) -> Wanted {
        self.wanted_values(section, mode, address)
    }

    fn wants_after(&self, address: Option<&str>) -> Wanted {
        self.wanted_after(address)
    }

    fn drop_behind(&mut self) -> Option<&mut DropBehind> {
        self.drop_behind.as_mut()
    }

    fn state_resource(
        &mut self,
        section: Section,
        head: Head<'de>,
        values: Taken<'de>,
        sensitive: Marks,
    ) {
        self.add_state_resource(section, head, values.built(), sensitive);
    }

    fn change(
        &mut self,
        head: Head<'de>,
        module_address: Option<String>,
        deposed: bool,
        change: ChangeParts<Taken<'de>>,
    ) {
        let change = ChangeParts {
            actions: change.actions,
            after: change.after.built(),
            unknown: change.unknown,
            sensitive: change.sensitive,
        };
        self.add_change(head, module_address, deposed, change);
    }
}

impl Taken<'_> {
    /// The values built. A [`Gathered`] never asks for a place (it wants values read or
    /// skipped), so text never reaches it.
    fn built(self) -> Option<Value> {
        match self {
            Taken::Built(value) => Some(value),
            Taken::None | Taken::Text(_) => None,
        }
    }
}

/// Reads a whole plan into a sink.
pub struct PlanSeed<'g, S> {
    pub sink: &'g mut S,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for PlanSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for PlanSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the output of `terraform show -json PLANFILE` (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(field) = map.next_key::<Field>()? {
            map.next_value_seed(MemberSeed {
                field,
                sink: &mut *self.sink,
            })?;
        }
        Ok(())
    }
}

/// The value of one member of the plan object, read into a sink.
pub(super) struct MemberSeed<'g, S> {
    pub field: Field,
    pub sink: &'g mut S,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for MemberSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let sink = self.sink;
        match self.field {
            Field::FormatVersion => {
                sink.facts().format_version = Some(FormatVersion::deserialize(deserializer)?.0)
            }
            Field::PlannedValues => {
                sink.facts().has_planned_values = true;
                StateValuesSeed {
                    sink,
                    section: Section::Planned,
                }
                .deserialize(deserializer)?;
            }
            Field::ResourceChanges => {
                sink.facts().has_resource_changes = true;
                ChangesSeed { sink }.deserialize(deserializer)?;
            }
            Field::PriorState => PriorStateSeed { sink }.deserialize(deserializer)?,
            Field::Configuration => {
                sink.facts().configuration = Some(Configuration::deserialize(deserializer)?)
            }
            Field::Values => {
                sink.facts().has_state_values = true;
                IgnoredAny::deserialize(deserializer)?;
            }
            _ => {
                IgnoredAny::deserialize(deserializer)?;
            }
        }
        Ok(())
    }
}

/// `format_version`: a version such as "1.2". Anything else is refused where it stands, saying
/// what was found there.
struct FormatVersion(String);

impl<'de> de::Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FormatVersion, D::Error> {
        deserializer.deserialize_str(FormatVersionVisitor)
    }
}

struct FormatVersionVisitor;

impl Visitor<'_> for FormatVersionVisitor {
    type Value = FormatVersion;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string with a plan format version such as \"1.2\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<FormatVersion, E> {
        let is_version = text
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if is_version {
            return Ok(FormatVersion(text.to_string()));
        }
        const SHOWN_CHARS: usize = 40;
        let long;
        let found = if text.chars().count() > SHOWN_CHARS {
            long = format!("a string of {} characters", text.chars().count());
            de::Unexpected::Other(&long)
        } else {
            de::Unexpected::Str(text)
        };
        Err(E::invalid_value(found, &self))
    }
}

/// Which state a module tree describes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Section {
    /// `planned_values`: the state after apply.
    Planned,
    /// `prior_state.values`: the state before it.
    Prior,
}

/// `{"root_module": {...}}`, in `planned_values` and in `prior_state.values`.
struct StateValuesSeed<'g, S> {
    sink: &'g mut S,
    section: Section,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for StateValuesSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for StateValuesSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with `root_module`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Field>()? {
            if key == Field::RootModule {
                map.next_value_seed(ModuleSeed {
                    sink: &mut *self.sink,
                    section: self.section,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// `{"format_version": .., "values": {"root_module": ..}}`.
struct PriorStateSeed<'g, S> {
    sink: &'g mut S,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for PriorStateSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for PriorStateSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a prior state object with `values`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Field>()? {
            if key == Field::Values {
                map.next_value_seed(StateValuesSeed {
                    sink: &mut *self.sink,
                    section: Section::Prior,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A module of a state: `{"address": .., "resources": [..], "child_modules": [..]}`.
struct ModuleSeed<'g, S> {
    sink: &'g mut S,
    section: Section,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for ModuleSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for ModuleSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a module object with `resources` and `child_modules`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Resources => map.next_value_seed(ListSeed {
                    sink: &mut *self.sink,
                    section: self.section,
                    item: Item::StateResource,
                })?,
                Field::ChildModules => map.next_value_seed(ListSeed {
                    sink: &mut *self.sink,
                    section: self.section,
                    item: Item::Module,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// What a list holds.
#[derive(Clone, Copy)]
enum Item {
    StateResource,
    Module,
    Change,
}

/// A list of state resources, child modules or resource changes.
struct ListSeed<'g, S> {
    sink: &'g mut S,
    section: Section,
    item: Item,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for ListSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for ListSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self.item {
            Item::StateResource => "a list of resources",
            Item::Module => "a list of child modules",
            Item::Change => "a list of resource changes",
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let more = match self.item {
                Item::StateResource => seq.next_element_seed(StateResourceSeed {
                    sink: &mut *self.sink,
                    section: self.section,
                })?,
                Item::Module => seq.next_element_seed(ModuleSeed {
                    sink: &mut *self.sink,
                    section: self.section,
                })?,
                Item::Change => seq.next_element_seed(ChangeEntrySeed {
                    sink: &mut *self.sink,
                })?,
            };
            if more.is_none() {
                return Ok(());
            }
        }
    }
}

/// The fields every resource entry starts with, lent from the input where the parser can:
/// most entries name an instance met before, whose strings are never copied.
pub(super) struct Head<'de> {
    pub address: Cow<'de, str>,
    /// A place of the entry in the input: where one of its strings was lent from memory.
    at: Option<*const u8>,
    pub mode: Cow<'de, str>,
    resource_type: Cow<'de, str>,
    name: Cow<'de, str>,
    key: Option<IndexKey>,
}

// SAFETY: `at` is only compared with the bounds of the mapped plan, never read through, so a
// head may move to the thread that takes it in.
unsafe impl Send for Head<'_> {}

/// The identifying fields of an entry, read in any order.
#[derive(Default)]
struct HeadFields<'de> {
    address: Option<Cow<'de, str>>,
    at: Option<*const u8>,
    mode: Option<Cow<'de, str>>,
    resource_type: Option<Cow<'de, str>>,
    name: Option<Cow<'de, str>>,
    key: Option<IndexKey>,
}

impl<'de> HeadFields<'de> {
    /// Reads the value of `key` if it is one of the identifying fields.
    fn read<A: MapAccess<'de>>(&mut self, key: Field, map: &mut A) -> Result<bool, A::Error> {
        match key {
            Field::Address => {
                let address: LentText = map.next_value()?;
                self.at = self.at.or(address.at());
                self.address = Some(address.0);
            }
            // The mode is lent even where the address is not: an address with a string key,
            // `module.m["a"]`, has escaped quotes, so the parser copies it out.
            Field::Mode => {
                let mode: LentText = map.next_value()?;
                self.at = self.at.or(mode.at());
                self.mode = Some(mode.0);
            }
            Field::Type => self.resource_type = Some(map.next_value::<LentText>()?.0),
            Field::Name => self.name = Some(map.next_value::<LentText>()?.0),
            Field::Index => self.key = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish<E: de::Error>(self) -> Result<Head<'de>, E> {
        Ok(Head {
            address: self.address.ok_or_else(|| E::missing_field("address"))?,
            at: self.at,
            mode: self.mode.ok_or_else(|| E::missing_field("mode"))?,
            resource_type: self.resource_type.ok_or_else(|| E::missing_field("type"))?,
            name: self.name.ok_or_else(|| E::missing_field("name"))?,
            key: self.key,
        })
    }
}

/// A resource of `planned_values` or `prior_state`.
struct StateResourceSeed<'g, S> {
    sink: &'g mut S,
    section: Section,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for StateResourceSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for StateResourceSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource object with `address`, `type`, `name` and `values`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.sink;
        let mut head = HeadFields::default();
        let mut values = Taken::None;
        let mut sensitive = Marks::None;

        while let Some(key) = map.next_key::<Field>()? {
            if head.read(key, &mut map)? {
                continue;
            }
            match key {
                Field::Values => {
                    let wanted = sink.wants_values(
                        self.section,
                        head.mode.as_deref(),
                        head.address.as_deref(),
                    );
                    values = take_values(&mut map, wanted)?;
                }
                Field::SensitiveValues => sensitive = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let head = head.finish()?;
        sink.passed(head.at);
        sink.state_resource(self.section, head, values, sensitive);
        Ok(())
    }
}

/// Reads, skips or keeps the place of the values that are the next value of `map`.
fn take_values<'de, A: MapAccess<'de>>(
    map: &mut A,
    wanted: Wanted,
) -> Result<Taken<'de>, A::Error> {
    Ok(match wanted {
        Wanted::Read => Taken::Built(map.next_value::<PlanAttributes>()?.0),
        Wanted::Skip => {
            map.next_value::<IgnoredAny>()?;
            Taken::None
        }
        Wanted::Place => Taken::Text(map.next_value::<&'de RawValue>()?.get()),
    })
}

/// `resource_changes`.
struct ChangesSeed<'g, S> {
    sink: &'g mut S,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for ChangesSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        ListSeed {
            sink: self.sink,
            section: Section::Planned,
            item: Item::Change,
        }
        .deserialize(deserializer)
    }
}

/// One entry of `resource_changes`.
struct ChangeEntrySeed<'g, S> {
    sink: &'g mut S,
}

impl<'de, S: Sink<'de>> DeserializeSeed<'de> for ChangeEntrySeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, S: Sink<'de>> Visitor<'de> for ChangeEntrySeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource change object with `address`, `type`, `name` and `change`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.sink;
        let mut head = HeadFields::default();
        let mut module_address = None;
        let mut deposed = false;
        let mut change = None;

        while let Some(key) = map.next_key::<Field>()? {
            if head.read(key, &mut map)? {
                continue;
            }
            match key {
                Field::ModuleAddress => module_address = map.next_value()?,
                // The change of a deposed object (left over from a failed replace), which is
                // only ever destroyed; the current object has a change of its own.
                Field::Deposed => deposed = map.next_value::<Option<IgnoredAny>>()?.is_some(),
                Field::Change => {
                    let after = sink.wants_after(head.address.as_deref());
                    change = Some(map.next_value_seed(ChangeSeed { after })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let head = head.finish()?;
        sink.passed(head.at);
        let change = change.ok_or_else(|| de::Error::missing_field("change"))?;
        sink.change(head, module_address, deposed, change);
        Ok(())
    }
}

/// A change that leaves no instance behind: a destroy, or Terraform letting go of it.
fn is_removal(actions: &[Action]) -> bool {
    !actions.is_empty()
        && actions
            .iter()
            .all(|action| matches!(action, Action::Delete | Action::Forget))
}

/// What the loader keeps of a change; `A` is how its `after` was taken.
pub(super) struct ChangeParts<A> {
    pub actions: Vec<Action>,
    pub after: A,
    pub unknown: Marks,
    pub sensitive: Marks,
}

/// The `change` object of a resource change.
struct ChangeSeed {
    /// What to do with `after`.
    after: Wanted,
}

impl<'de> DeserializeSeed<'de> for ChangeSeed {
    type Value = ChangeParts<Taken<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ChangeSeed {
    type Value = ChangeParts<Taken<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a change object with `actions`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut actions = None;
        let mut parts = ChangeParts {
            actions: Vec::new(),
            after: Taken::None,
            unknown: Marks::None,
            sensitive: Marks::None,
        };
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Actions => actions = Some(map.next_value()?),
                Field::After => parts.after = take_values(&mut map, self.after)?,
                Field::AfterUnknown => parts.unknown = map.next_value()?,
                Field::AfterSensitive => parts.sensitive = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        parts.actions = actions.ok_or_else(|| de::Error::missing_field("actions"))?;
        Ok(parts)
    }
}
