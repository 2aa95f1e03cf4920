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
use super::values::{Marks, PlanAttributes};
use crate::address_hash::AddressMap;
use crate::value::Value;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The keys of the objects this module reads, told apart without allocating a string for each
/// (there are tens of them per resource).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
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

/// Field names as they appear in plan JSON.
const FIELDS: &[(&str, Field)] = &[
    ("format_version", Field::FormatVersion),
    ("planned_values", Field::PlannedValues),
    ("resource_changes", Field::ResourceChanges),
    ("prior_state", Field::PriorState),
    ("configuration", Field::Configuration),
    ("values", Field::Values),
    ("root_module", Field::RootModule),
    ("resources", Field::Resources),
    ("child_modules", Field::ChildModules),
    ("address", Field::Address),
    ("module_address", Field::ModuleAddress),
    ("mode", Field::Mode),
    ("type", Field::Type),
    ("name", Field::Name),
    ("index", Field::Index),
    ("sensitive_values", Field::SensitiveValues),
    ("deposed", Field::Deposed),
    ("change", Field::Change),
    ("actions", Field::Actions),
    ("after", Field::After),
    ("after_unknown", Field::AfterUnknown),
    ("after_sensitive", Field::AfterSensitive),
];

impl<'de> de::Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct FieldVisitor;

        impl Visitor<'_> for FieldVisitor {
            type Value = Field;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(FIELDS
                    .iter()
                    .find_map(|(known, field)| (*known == name).then_some(*field))
                    .unwrap_or(Field::Other))
            }
        }

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

/// Everything gathered from one plan.
#[derive(Default)]
pub struct Gathered {
    pub format_version: Option<String>,
    /// A top-level `values`, as `terraform show -json` writes for a state.
    pub has_state_values: bool,
    pub has_planned_values: bool,
    pub has_resource_changes: bool,
    /// In order of first appearance.
    pub instances: Vec<Instance>,
    by_address: AddressMap<String, usize>,
    pub configuration: Option<Configuration>,
    /// Given the place of each resource read, when the plan is a mapped file.
    pub drop_behind: Option<DropBehind>,
}

impl Gathered {
    /// Says that the parser has passed the resource entry whose address is at `at`.
    fn passed(&mut self, at: Option<*const u8>) {
        if let (Some(drop_behind), Some(at)) = (&mut self.drop_behind, at) {
            drop_behind.passed(at);
        }
    }

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

    fn instance(&mut self, head: Head) -> &mut Instance {
        let next = self.instances.len();
        let i = *self.by_address.entry(head.address.clone()).or_insert(next);
        if i == next {
            self.instances.push(Instance {
                address: head.address,
                mode: head.mode,
                resource_type: head.resource_type,
                name: head.name,
                key: head.key,
                ..Instance::default()
            });
        }
        &mut self.instances[i]
    }
}

/// Reads a whole plan into `gathered`.
pub struct PlanSeed<'g> {
    pub gathered: &'g mut Gathered,
}

impl<'de> DeserializeSeed<'de> for PlanSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PlanSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the output of `terraform show -json PLANFILE` (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let gathered = self.gathered;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::FormatVersion => {
                    gathered.format_version = Some(map.next_value::<FormatVersion>()?.0)
                }
                Field::PlannedValues => {
                    gathered.has_planned_values = true;
                    map.next_value_seed(StateValuesSeed {
                        gathered: &mut *gathered,
                        section: Section::Planned,
                    })?;
                }
                Field::ResourceChanges => {
                    gathered.has_resource_changes = true;
                    map.next_value_seed(ChangesSeed {
                        gathered: &mut *gathered,
                    })?;
                }
                Field::PriorState => map.next_value_seed(PriorStateSeed {
                    gathered: &mut *gathered,
                })?,
                Field::Configuration => gathered.configuration = Some(map.next_value()?),
                Field::Values => {
                    gathered.has_state_values = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
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
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// `planned_values`: the state after apply.
    Planned,
    /// `prior_state.values`: the state before it.
    Prior,
}

/// `{"root_module": {...}}`, in `planned_values` and in `prior_state.values`.
struct StateValuesSeed<'g> {
    gathered: &'g mut Gathered,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for StateValuesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StateValuesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with `root_module`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Field>()? {
            if key == Field::RootModule {
                map.next_value_seed(ModuleSeed {
                    gathered: &mut *self.gathered,
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
struct PriorStateSeed<'g> {
    gathered: &'g mut Gathered,
}

impl<'de> DeserializeSeed<'de> for PriorStateSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PriorStateSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a prior state object with `values`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Field>()? {
            if key == Field::Values {
                map.next_value_seed(StateValuesSeed {
                    gathered: &mut *self.gathered,
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
struct ModuleSeed<'g> {
    gathered: &'g mut Gathered,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for ModuleSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ModuleSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a module object with `resources` and `child_modules`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Resources => map.next_value_seed(ListSeed {
                    gathered: &mut *self.gathered,
                    section: self.section,
                    item: Item::StateResource,
                })?,
                Field::ChildModules => map.next_value_seed(ListSeed {
                    gathered: &mut *self.gathered,
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
struct ListSeed<'g> {
    gathered: &'g mut Gathered,
    section: Section,
    item: Item,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
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
                    gathered: &mut *self.gathered,
                    section: self.section,
                })?,
                Item::Module => seq.next_element_seed(ModuleSeed {
                    gathered: &mut *self.gathered,
                    section: self.section,
                })?,
                Item::Change => seq.next_element_seed(ChangeEntrySeed {
                    gathered: &mut *self.gathered,
                })?,
            };
            if more.is_none() {
                return Ok(());
            }
        }
    }
}

/// The fields every resource entry starts with.
struct Head {
    address: String,
    /// Where the address is in the input, when it was read from memory unescaped.
    address_at: Option<*const u8>,
    mode: String,
    resource_type: String,
    name: String,
    key: Option<IndexKey>,
}

/// The identifying fields of an entry, read in any order.
#[derive(Default)]
struct HeadFields {
    address: Option<String>,
    address_at: Option<*const u8>,
    mode: Option<String>,
    resource_type: Option<String>,
    name: Option<String>,
    key: Option<IndexKey>,
}

impl HeadFields {
    /// Reads the value of `key` if it is one of the identifying fields.
    fn read<'de, A: MapAccess<'de>>(&mut self, key: Field, map: &mut A) -> Result<bool, A::Error> {
        match key {
            Field::Address => {
                let address: PlacedText = map.next_value()?;
                self.address = Some(address.text);
                self.address_at = address.at;
            }
            Field::Mode => self.mode = Some(map.next_value()?),
            Field::Type => self.resource_type = Some(map.next_value()?),
            Field::Name => self.name = Some(map.next_value()?),
            Field::Index => self.key = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish<E: de::Error>(self) -> Result<Head, E> {
        Ok(Head {
            address: self.address.ok_or_else(|| E::missing_field("address"))?,
            address_at: self.address_at,
            mode: self.mode.ok_or_else(|| E::missing_field("mode"))?,
            resource_type: self.resource_type.ok_or_else(|| E::missing_field("type"))?,
            name: self.name.ok_or_else(|| E::missing_field("name"))?,
            key: self.key,
        })
    }
}

/// A string, with where it was in the input when the parser could lend it from there.
struct PlacedText {
    text: String,
    at: Option<*const u8>,
}

impl<'de> de::Deserialize<'de> for PlacedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PlacedText, D::Error> {
        struct PlacedTextVisitor;

        impl<'de> Visitor<'de> for PlacedTextVisitor {
            type Value = PlacedText;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<PlacedText, E> {
                Ok(PlacedText {
                    text: text.to_string(),
                    at: Some(text.as_ptr()),
                })
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<PlacedText, E> {
                Ok(PlacedText {
                    text: text.to_string(),
                    at: None,
                })
            }
        }

        deserializer.deserialize_str(PlacedTextVisitor)
    }
}

/// A resource of `planned_values` or `prior_state`.
struct StateResourceSeed<'g> {
    gathered: &'g mut Gathered,
    section: Section,
}

impl<'de> DeserializeSeed<'de> for StateResourceSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StateResourceSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource object with `address`, `type`, `name` and `values`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let gathered = self.gathered;
        let mut head = HeadFields::default();
        let mut values = None;
        let mut sensitive = Marks::None;

        while let Some(key) = map.next_key::<Field>()? {
            if head.read(key, &mut map)? {
                continue;
            }
            match key {
                Field::Values => {
                    // Terraform writes the address and mode first, so values that will not be
                    // kept are skipped unread.
                    let address = head.address.as_deref();
                    let skip = match self.section {
                        Section::Planned => address.is_some_and(|a| gathered.has_values(a)),
                        Section::Prior => {
                            head.mode.as_deref().is_some_and(|mode| mode != "data")
                                || address.is_some_and(|a| gathered.knows(a))
                        }
                    };
                    if skip {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        values = Some(map.next_value::<PlanAttributes>()?.0);
                    }
                }
                Field::SensitiveValues => sensitive = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let head = head.finish()?;
        gathered.passed(head.address_at);
        match self.section {
            Section::Planned => {
                let firm = gathered.has_values(&head.address);
                let instance = gathered.instance(head);
                if let (Some(values), false) = (values, firm) {
                    instance.values = Some(values);
                    instance.values_from_prior = false;
                }
                if !sensitive.is_none() {
                    instance.sensitive.push(sensitive);
                }
            }
            // Only data sources read while planning, which no other section lists.
            Section::Prior => {
                if head.mode != "data" || gathered.knows(&head.address) {
                    return Ok(());
                }
                let instance = gathered.instance(head);
                instance.values = values;
                instance.values_from_prior = true;
                if !sensitive.is_none() {
                    instance.sensitive.push(sensitive);
                }
            }
        }
        Ok(())
    }
}

/// `resource_changes`.
struct ChangesSeed<'g> {
    gathered: &'g mut Gathered,
}

impl<'de> DeserializeSeed<'de> for ChangesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        ListSeed {
            gathered: self.gathered,
            section: Section::Planned,
            item: Item::Change,
        }
        .deserialize(deserializer)
    }
}

/// One entry of `resource_changes`.
struct ChangeEntrySeed<'g> {
    gathered: &'g mut Gathered,
}

impl<'de> DeserializeSeed<'de> for ChangeEntrySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ChangeEntrySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource change object with `address`, `type`, `name` and `change`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let gathered = self.gathered;
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
                    let skip_after = head
                        .address
                        .as_deref()
                        .is_some_and(|a| gathered.has_values(a));
                    change = Some(map.next_value_seed(ChangeSeed { skip_after })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let head = head.finish()?;
        gathered.passed(head.address_at);
        let change: ChangeParts = change.ok_or_else(|| de::Error::missing_field("change"))?;
        if deposed {
            return Ok(());
        }
        let firm = gathered.has_values(&head.address);
        let instance = gathered.instance(head);
        if module_address.is_some() {
            instance.module_address = module_address;
        }
        if is_removal(&change.actions) {
            instance.removed = true;
            return Ok(());
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

struct ChangeParts {
    actions: Vec<Action>,
    after: Option<Value>,
    unknown: Marks,
    sensitive: Marks,
}

/// The `change` object of a resource change.
struct ChangeSeed {
    /// The values are known already, from `planned_values`.
    skip_after: bool,
}

impl<'de> DeserializeSeed<'de> for ChangeSeed {
    type Value = ChangeParts;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ChangeParts, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ChangeSeed {
    type Value = ChangeParts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a change object with `actions`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ChangeParts, A::Error> {
        let mut actions = None;
        let mut parts = ChangeParts {
            actions: Vec::new(),
            after: None,
            unknown: Marks::None,
            sensitive: Marks::None,
        };
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Actions => actions = Some(map.next_value()?),
                Field::After if !self.skip_after => {
                    parts.after = Some(map.next_value::<PlanAttributes>()?.0)
                }
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
