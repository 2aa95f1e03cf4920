//! Loads `terraform show -json PLANFILE` output into the resource model.
//!
//! A plan says each resource instance's values several times over: in `planned_values` (the
//! state after apply, with `sensitive_values`), in `resource_changes` (before and after, with
//! the `after_unknown` and `after_sensitive` markers) and in `prior_state`; the `configuration`
//! describes each module once (not per instance) with the references of every expression. This
//! module joins them by address into one [`Resource`] per instance that exists after apply.
//!
//! The file is read in one pass and never held whole: the values kept are built as they pass
//! and the rest is skipped (see [`stream`]). A regular file is parsed through a memory map
//! whose passed pages are handed back as it goes ([`mapped`]), anything else as a stream, so
//! loading costs about the memory of the resources loaded. A large mapped plan is read in two
//! parts at once, one per core ([`split`]).
//!
//! Plans carry no source lines, so resources have no [`Location`](crate::model::Location):
//! findings point at the plan file itself.

mod mapped;
mod numbers;
mod references;
mod schema;
mod split;
mod stream;
mod values;

use crate::address_hash::AddressMap;
use crate::error::{json_message, InputError};
use crate::files::{wide_encoding, UTF8_BOM};
use crate::model::{InstanceKey, Mode, Project, ProviderRef, Resource};
use crate::runs;
use crate::value::Value;
use mapped::{DropBehind, Mapping};
use numbers::{NumberGuard, Replaced, Replacements};
use references::{
    ancestor_addresses, block_key, module_address, module_steps, InstancePath, ModuleConfig,
    Resolver,
};
/// Taking addresses apart, for matching suppressions to resource instances.
pub(crate) use references::{split_traversal, Step};
use schema::{Configuration, IndexKey};
use serde::de::DeserializeSeed;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::Path;
use std::sync::Arc;
use stream::{Gathered, Instance, PlanSeed};

/// Plan format major versions this loader knows. Terraform promises that a change of the minor
/// version only adds fields.
const KNOWN_FORMAT_MAJOR: &[&str] = &["0", "1"];

/// Bytes read from the file at a time.
const READ_BUFFER: usize = 1 << 16;

/// The most read from a pipe or standard input. A file's size bounds what is read from it; a
/// pipe may never end, and what the loader keeps grows with what it reads. About 75,000
/// resources; larger plans are scanned from a file.
pub const MAX_STREAMED_BYTES: u64 = 256 << 20;

/// How a plan read from standard input is named in errors and findings.
pub const STDIN_NAME: &str = "<stdin>";

/// What to do with the binary plan that `terraform plan -out` writes, which people scan by
/// mistake.
pub const BINARY_PLAN_HINT: &str = "this looks like a binary plan from `terraform plan -out`: \
                                    convert it with `terraform show -json PLANFILE > plan.json` \
                                    and scan plan.json";

/// The first bytes of a zip archive, the format of Terraform's binary plan files.
pub const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// True for a file the CLI should hand to [`load`]: JSON, by its name. Cheap: nothing is read.
pub fn looks_like_plan(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
}

/// Reads a plan written by `terraform show -json PLANFILE` from a file: through a memory map
/// when it is a regular file (see [`mapped`]), else as a stream.
pub fn load(path: &Path) -> Result<Project, InputError> {
    let file = File::open(path).map_err(|e| cannot_read(path, e))?;
    let metadata = file.metadata().map_err(|e| cannot_read(path, e))?;
    let len = usize::try_from(metadata.len()).unwrap_or(usize::MAX);
    if metadata.is_file() && len > 0 {
        if let Ok(mapping) = Mapping::open(&file, len, path) {
            return load_from(path, Source::Mapped(Arc::new(mapping)));
        }
    }
    let open = || {
        File::open(path)
            .map(|file| Box::new(file) as Box<dyn Read>)
            .map_err(|e| cannot_read(path, e))
    };
    load_from(path, Source::Reopen(&open))
}

/// Reads a plan held in memory; `source` names it in errors and findings.
pub fn load_slice(source: &Path, bytes: &[u8]) -> Result<Project, InputError> {
    let open = || Ok(Box::new(bytes) as Box<dyn Read>);
    load_from(source, Source::Reopen(&open))
}

/// Reads a plan from a file opened already, such as standard input redirected from a file, from
/// where the file stands; read again from there when needed, as [`load`] reads a file again.
pub fn load_open_file(name: &Path, file: File) -> Result<Project, InputError> {
    let cannot = |error| cannot_read(name, error);
    let start = (&file).stream_position().map_err(cannot)?;
    let open = || {
        let mut copy = file.try_clone().map_err(cannot)?;
        copy.seek(io::SeekFrom::Start(start)).map_err(cannot)?;
        Ok(Box::new(copy) as Box<dyn Read>)
    };
    load_from(name, Source::Reopen(&open))
}

/// Reads a plan from a pipe or standard input, once, as it arrives; `name` names it in errors
/// and findings. Input that does not start as plan JSON is refused from its first bytes, and
/// at most [`MAX_STREAMED_BYTES`] are read.
pub fn load_stream<'a>(name: &Path, reader: impl Read + 'a) -> Result<Project, InputError> {
    load_from(name, Source::Stream(Some(Box::new(reader))))
}

/// Where a plan's bytes come from. A file or bytes in memory can be read again, to name the
/// field at fault in an error or to take numbers too large for a float; a pipe only once.
enum Source<'a> {
    Reopen(&'a dyn Fn() -> Result<Box<dyn Read + 'a>, InputError>),
    Stream(Option<Box<dyn Read + 'a>>),
    /// A regular file mapped into memory: parsed as a slice, read again as a stream.
    Mapped(Arc<Mapping>),
}

impl<'a> Source<'a> {
    /// The plan's bytes from the start, or `None` when a stream was read already.
    fn open(&mut self, name: &Path) -> Option<Result<Start<'a>, InputError>> {
        let (raw, limit) = match self {
            Source::Reopen(open) => (open(), None),
            Source::Stream(reader) => (Ok(reader.take()?), Some(MAX_STREAMED_BYTES)),
            Source::Mapped(mapping) => {
                let reader: Box<dyn Read + 'a> = Box::new(MappedReader {
                    mapping: mapping.clone(),
                    at: 0,
                });
                (Ok(reader), None)
            }
        };
        Some(raw.and_then(|raw| Start::open(name, raw, limit)))
    }
}

/// A plan's bytes past a byte order mark: the few read to judge how the plan starts, then the
/// rest as it comes, up to `limit` bytes.
struct Start<'a> {
    head: Vec<u8>,
    head_at: usize,
    rest: Box<dyn Read + 'a>,
    read: u64,
    limit: Option<u64>,
}

/// Bytes read to judge how a plan starts: enough for a byte order mark or a zip header.
const HEAD_BYTES: usize = 4;

impl<'a> Start<'a> {
    /// Reads the first bytes and refuses what is not UTF-8 JSON, naming what it is. A stream,
    /// which can be read only once, must start as plan JSON does; a file that does not is
    /// described by the JSON reader.
    fn open(
        name: &Path,
        mut raw: Box<dyn Read + 'a>,
        limit: Option<u64>,
    ) -> Result<Start<'a>, InputError> {
        let mut head = [0; HEAD_BYTES];
        let mut filled = 0;
        while filled < HEAD_BYTES {
            match raw.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(count) => filled += count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(cannot_read(name, error)),
            }
        }
        let head = &head[..filled];
        check_start(name, head, limit.is_some())?;

        let json = head.strip_prefix(UTF8_BOM).unwrap_or(head);
        Ok(Start {
            head: json.to_vec(),
            head_at: 0,
            rest: raw,
            read: filled as u64,
            limit,
        })
    }
}

impl Read for Start<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.head_at < self.head.len() {
            let count = buf.len().min(self.head.len() - self.head_at);
            buf[..count].copy_from_slice(&self.head[self.head_at..self.head_at + count]);
            self.head_at += count;
            return Ok(count);
        }

        let count = self.rest.read(buf)?;
        self.read += count as u64;
        match self.limit {
            Some(limit) if self.read > limit => Err(io::Error::other(format!(
                "it goes on past {} MiB, the most read from a pipe or standard input; expected \
                 a smaller plan there (write a larger one to a file and scan the file)",
                limit >> 20
            ))),
            _ => Ok(count),
        }
    }
}

/// The error for a plan the system would not let us read.
fn cannot_read(path: &Path, error: io::Error) -> InputError {
    InputError::new(path, format!("cannot read the plan: {error}"))
}

/// Refuses a plan whose first bytes say it is no UTF-8 JSON.
fn check_start(name: &Path, head: &[u8], stream: bool) -> Result<(), InputError> {
    let refuse = |message: String| Err(InputError::new(name, message).at(1, 1));
    if let Some(encoding) = wide_encoding(head) {
        return refuse(format!(
            "the plan is {encoding} text; expected a plan as UTF-8 JSON: in PowerShell, whose \
             `>` writes UTF-16, write it with `terraform show -json PLANFILE | Set-Content \
             -Encoding utf8 plan.json` (or `| Out-File -Encoding utf8 plan.json`)"
        ));
    }
    if head.starts_with(ZIP_MAGIC) {
        return refuse(format!(
            "not JSON; expected the output of `terraform show -json PLANFILE`: \
             {BINARY_PLAN_HINT}"
        ));
    }
    if !stream {
        return Ok(());
    }

    // Plan JSON starts with `{`. What else comes down a pipe is refused before it is read on:
    // it may never end (`/dev/zero`), and it cannot be read again to be judged otherwise.
    let json = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    let expected = "expected the output of `terraform show -json PLANFILE`, which starts with \
                    `{` (a pipe or standard input is read only as a plan; to scan Terraform \
                    source, name its directory or .tf file)";
    match json.first() {
        None => refuse(format!("nothing to read; {expected}")),
        Some(b'{' | b' ' | b'\t' | b'\r' | b'\n') => Ok(()),
        Some(&byte) => {
            let shown = if byte.is_ascii_graphic() {
                format!("`{}`", char::from(byte))
            } else {
                format!("the byte 0x{byte:02X}")
            };
            refuse(format!(
                "not a Terraform plan: it starts with {shown}; {expected}"
            ))
        }
    }
}

/// Reads a plan from `source`. Read once as it streams; a file is read again only when
/// something is wrong: to name the field at fault, or, when it holds numbers too large for a
/// float, to read it through a [`NumberGuard`] that takes them as unknown.
fn load_from(path: &Path, mut source: Source) -> Result<Project, InputError> {
    let mut gathered = Gathered::default();
    let mut replaced = Replacements::default();
    let first = match &source {
        Source::Mapped(mapping) => gather_mapped(path, mapping, &mut gathered)?,
        _ => {
            let Some(first) = source.open(path) else {
                return Err(InputError::new(
                    path,
                    "cannot read the plan: nothing to read",
                ));
            };
            gather(Box::new(first?), &mut gathered)
        }
    };
    if let Err(error) = first {
        if !is_out_of_range(&error) {
            return Err(parse_error(path, error, &replaced, || {
                field_at_fault(&mut source, path, false)
            }));
        }
        let Some(again) = source.open(path) else {
            return Err(out_of_range_in_stream(path, &error));
        };
        let (guard, found) = NumberGuard::new(again?);
        gathered = Gathered::default();
        let guarded = gather(Box::new(guard), &mut gathered);
        replaced = found.take();
        if let Err(error) = guarded {
            return Err(parse_error(path, error, &replaced, || {
                field_at_fault(&mut source, path, true)
            }));
        }
    }

    let format_version = check_is_plan(path, &gathered)?;
    let mut project = Project {
        files: vec![path.to_path_buf()],
        ..Project::default()
    };
    if !KNOWN_FORMAT_MAJOR.contains(&format_version.split('.').next().unwrap_or_default()) {
        project.notes.push(format!(
            "{}: plan format version {format_version} is newer than the 1.x this scanner \
             reads; resources may be missed",
            path.display()
        ));
    }
    project.notes.extend(number_notes(path, &replaced.list));

    let configuration = gathered.facts.configuration.take().unwrap_or_default();
    let providers = providers(&configuration);
    let config = ModuleConfig::build(configuration.root_module);
    let assembler = Assembler {
        resolver: Resolver::new(&config),
        providers,
    };
    let kept = gathered
        .instances
        .into_iter()
        .filter(|instance| !instance.removed);
    project.resources = runs::map_each_owned(kept, LastModule::default, |last_module, instance| {
        assembler.resource(instance, last_module)
    });
    // A large plan's configuration takes a few milliseconds to free, which nothing waits for.
    drop(assembler);
    runs::free_in_background(config);
    Ok(project)
}

/// One pass of the JSON reader over a mapped plan, handing back the pages it has passed.
fn gather_mapped(
    path: &Path,
    mapping: &Arc<Mapping>,
    gathered: &mut Gathered,
) -> Result<Result<(), serde_json::Error>, InputError> {
    let bytes = mapping.bytes();
    check_start(path, &bytes[..bytes.len().min(HEAD_BYTES)], false)?;
    let json = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);

    if json.len() >= split::TWO_PARTS_FROM_BYTES && runs::cores() > 1 {
        let in_mapping = split::InMapping {
            mapping,
            text_offset: bytes.len() - json.len(),
        };
        if let Some(read) = split::gather_in_two_parts(json, Some(in_mapping)) {
            *gathered = read;
            return Ok(Ok(()));
        }
    }

    gathered.drop_behind = Some(DropBehind::new(mapping.clone()));
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let parsed = PlanSeed {
        sink: &mut *gathered,
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end());
    gathered.drop_behind = None;
    Ok(parsed)
}

/// A mapped plan read as a stream, for the slower second reads that describe an error or take
/// numbers too large for a float.
struct MappedReader {
    mapping: Arc<Mapping>,
    at: usize,
}

impl Read for MappedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.mapping.bytes()[self.at..];
        let count = buf.len().min(rest.len());
        buf[..count].copy_from_slice(&rest[..count]);
        self.at += count;
        Ok(count)
    }
}

/// One pass of the JSON reader over a plan, gathering what the model needs.
fn gather(reader: Box<dyn Read + '_>, gathered: &mut Gathered) -> Result<(), serde_json::Error> {
    let reader = BufReader::with_capacity(READ_BUFFER, reader);
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    PlanSeed { sink: gathered }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
}

/// The JSON path of the field a failed read stopped in, found by reading the plan again,
/// slowly; `None` for a stream, which cannot be read again.
fn field_at_fault(source: &mut Source, path: &Path, guarded: bool) -> Option<String> {
    let reader: Box<dyn Read> = match source.open(path)?.ok()? {
        start if guarded => Box::new(NumberGuard::new(start).0),
        start => Box::new(start),
    };
    let mut deserializer =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(READ_BUFFER, reader));
    let mut track = serde_path_to_error::Track::new();
    let traced = serde_path_to_error::Deserializer::new(&mut deserializer, &mut track);
    let mut scratch = Gathered::default();
    let failed = PlanSeed { sink: &mut scratch }.deserialize(traced).is_err();
    failed.then(|| track.path().to_string())
}

/// serde_json's refusal of a number too large for a float.
fn is_out_of_range(error: &serde_json::Error) -> bool {
    error.classify() == serde_json::error::Category::Syntax
        && bare_message(error).starts_with("number out of range")
}

/// A number too large for a float in a plan that cannot be read again to take it as unknown.
fn out_of_range_in_stream(path: &Path, error: &serde_json::Error) -> InputError {
    InputError::new(
        path,
        "a number too large for a 64-bit float; such numbers are read as unknown by reading the \
         plan a second time, which a pipe does not allow: expected a plan file here \
         (`terraform show -json PLANFILE > plan.json`, then scan plan.json)",
    )
    .at(line_of(error), column_of(error))
}

/// One note per number read as unknown, the first few by place, the rest counted.
fn number_notes(path: &Path, replaced: &[Replaced]) -> Vec<String> {
    const LISTED: usize = 5;
    let mut notes: Vec<String> = replaced
        .iter()
        .take(LISTED)
        .map(|number| {
            let within = match number.path.as_str() {
                "" => String::new(),
                field => format!(" in `{}`", shorten(field)),
            };
            format!(
                "{}:{}:{}: the number {}{within} is too large for a 64-bit float; it was read \
                 as unknown",
                path.display(),
                number.line,
                number.column,
                number.text
            )
        })
        .collect();
    if replaced.len() > LISTED {
        notes.push(format!(
            "{}: {} more numbers too large for a 64-bit float were read as unknown",
            path.display(),
            replaced.len() - LISTED
        ));
    }
    notes
}

/// Refuses JSON that is not plan output, saying what was expected. Returns the format version.
fn check_is_plan(path: &Path, gathered: &Gathered) -> Result<String, InputError> {
    let facts = &gathered.facts;
    let is_plan = facts.has_planned_values || facts.has_resource_changes;
    match (&facts.format_version, is_plan) {
        (Some(version), true) => Ok(version.clone()),
        (Some(_), false) if facts.has_state_values => Err(InputError::new(
            path,
            "this is Terraform state, not a plan; expected the output of \
             `terraform show -json PLANFILE`, with `planned_values`",
        )
        .at(1, 1)),
        _ => Err(InputError::new(
            path,
            "not a Terraform plan; expected the output of `terraform show -json PLANFILE`, \
             an object with `format_version` and `planned_values`",
        )
        .at(1, 1)),
    }
}

/// Every provider configuration by its key (`aws`, `aws.eu`, `module.m:aws`), with the region
/// it sets: its value when written as a constant, unknown when it is computed.
fn providers(configuration: &Configuration) -> AddressMap<String, ProviderRef> {
    let mut providers = AddressMap::default();
    for (key, provider) in &configuration.provider_config {
        let region = provider
            .expressions
            .as_ref()
            .and_then(|expressions| expressions.get("region"))
            .map(|region| match region.get("constant_value") {
                Some(serde_json::Value::String(name)) => Value::String(name.clone()),
                Some(serde_json::Value::Null) | None => Value::Unknown,
                Some(other) if numbers::is_marker_json(other) => Value::Unknown,
                Some(other) => Value::from(other),
            });
        let reference = ProviderRef {
            name: provider.name.clone(),
            alias: provider.alias.clone(),
            region,
        };
        providers.insert(key.clone(), reference);
    }
    providers
}

/// Turns what the plan says about an instance into a [`Resource`].
struct Assembler<'c> {
    resolver: Resolver<'c>,
    providers: AddressMap<String, ProviderRef>,
}

impl Assembler<'_> {
    fn resource(&self, instance: Instance, last_module: &mut LastModule) -> Resource {
        let mode = if instance.mode == "data" {
            Mode::Data
        } else {
            Mode::Managed
        };
        let key = instance.key.map(|index| match index {
            IndexKey::Number(n) => InstanceKey::Index(n),
            IndexKey::String(s) => InstanceKey::Key(s),
        });
        let module = match &instance.module_address {
            Some(module) => last_module.of(module),
            None => last_module.of(&module_of(&instance.address)),
        };
        let steps = &module.steps;

        let config_key = block_key(mode == Mode::Data, &instance.resource_type, &instance.name);
        let config = self
            .resolver
            .module(steps)
            .and_then(|module| module.resources.get(&config_key));
        let references = config
            .map(|config| self.resolver.resolve_resource(config, module.path()))
            .unwrap_or_default();

        // An attribute the configuration leaves unset but the provider computes is unknown in
        // the plan, yet what it becomes is the provider's default: the same thing an unset
        // attribute means in HCL. Only what the configuration sets stays unknown.
        let unknown = match config.and_then(|config| config.expressions.as_ref()) {
            Some(expressions) => values::configured_only(&instance.unknown, expressions),
            None => instance.unknown,
        };
        let mut values = instance.values.unwrap_or_else(Value::map);
        values::apply_marks(&mut values, &unknown, &Value::Unknown, true);
        for sensitive in &instance.sensitive {
            values::apply_marks(&mut values, sensitive, &Value::Sensitive, false);
        }
        let provider = self.provider(
            config.and_then(|config| config.provider_config_key.as_deref()),
            &instance.resource_type,
        );

        Resource {
            address: instance.address,
            module: module.address.clone(),
            mode,
            resource_type: instance.resource_type,
            name: instance.name,
            key,
            provider,
            values,
            references,
            location: None,
            attribute_lines: BTreeMap::new(),
        }
    }

    /// The provider configuration a resource block uses. Terraform names a configuration
    /// passed into a module by the key it has where it is written; an older Terraform left
    /// the module's own key (`module.m:aws`), which is then looked up in the root instead.
    fn provider(&self, key: Option<&str>, resource_type: &str) -> ProviderRef {
        let default_name = resource_type.split('_').next().unwrap_or_default();
        let Some(key) = key else {
            return ProviderRef {
                name: default_name.to_string(),
                ..ProviderRef::default()
            };
        };
        if let Some(found) = self.providers.get(key) {
            return found.clone();
        }
        let local_key = key.rsplit_once(':').map_or(key, |(_, local)| local);
        if let Some(found) = self.providers.get(local_key) {
            return found.clone();
        }
        let (name, alias) = match local_key.split_once('.') {
            Some((name, alias)) => (name, Some(alias.to_string())),
            None => (local_key, None),
        };
        ProviderRef {
            name: name.to_string(),
            alias,
            region: None,
        }
    }
}

/// The module instance of the resource last assembled on a thread. A plan gives the resources
/// of a module instance together, and each would otherwise parse and spell its module again.
#[derive(Default)]
struct LastModule {
    /// The module instance's address as the plan gives it.
    given: Option<String>,
    steps: Vec<(String, Option<InstanceKey>)>,
    /// The address spelled from `steps`.
    address: String,
    /// The addresses of the module instances it is in.
    ancestors: Vec<String>,
}

impl LastModule {
    fn of(&mut self, given: &str) -> &LastModule {
        if self.given.as_deref() != Some(given) {
            self.steps = module_steps(given).unwrap_or_default();
            self.address = module_address(&self.steps);
            self.ancestors = ancestor_addresses(&self.steps);
            self.given = Some(given.to_string());
        }
        self
    }

    fn path(&self) -> InstancePath<'_> {
        InstancePath {
            steps: &self.steps,
            address: &self.address,
            ancestors: &self.ancestors,
        }
    }
}

/// The module instance part of a resource instance address, for entries that do not give it:
/// `module.a["x"]` of `module.a["x"].aws_s3_bucket.b[0]`.
fn module_of(address: &str) -> String {
    let Some(steps) = split_traversal(address) else {
        return String::new();
    };
    let mut module = Vec::new();
    let mut i = 0;
    while let (Some(Step::Name("module")), Some(Step::Name(name))) =
        (steps.get(i), steps.get(i + 1))
    {
        let key = match steps.get(i + 2) {
            Some(Step::Key(key)) => Some(key.clone()),
            _ => None,
        };
        i += if key.is_some() { 3 } else { 2 };
        module.push((name.to_string(), key));
    }
    module_address(&module)
}

/// Describes a failure to read the plan: broken JSON, a field of the wrong type, too deep.
/// `field` names the field to blame, at some cost; it is asked only where it helps. `replaced`
/// lists the numbers a [`NumberGuard`] replaced, to place the error in the plan as written.
fn parse_error(
    path: &Path,
    error: serde_json::Error,
    replaced: &Replacements,
    field: impl FnOnce() -> Option<String>,
) -> InputError {
    use serde_json::error::Category;

    let (column, number) = replaced.original(error.line().max(1) as u64, column_of(&error).into());
    let located = |message: String| {
        let column = u32::try_from(column).unwrap_or(u32::MAX);
        InputError::new(path, message).at(line_of(&error), column)
    };
    let within = |field: Option<String>| match field {
        Some(field) if !field.is_empty() && field != "." => format!("in `{}`: ", shorten(&field)),
        _ => String::new(),
    };

    match error.classify() {
        Category::Io => InputError::new(
            path,
            format!("cannot read the plan: {}", bare_message(&error)),
        ),
        Category::Eof => located(format!(
            "the JSON ends early (is the file truncated?): {}",
            json_message(&error)
        )),
        Category::Syntax if is_too_deep(&error) => located(format!(
            "{}values nested deeper than a Terraform plan has; expected at most 128 levels",
            within(field())
        )),
        Category::Syntax if is_out_of_range(&error) => {
            located(if replaced.list.len() >= numbers::MAX_REPLACED {
                format!(
                "more than {} numbers too large for a 64-bit float; expected at most {}, which \
                 are read as unknown",
                numbers::MAX_REPLACED,
                numbers::MAX_REPLACED
            )
            } else {
                format!(
                "a number of thousands of digits too large for a 64-bit float; expected one of \
                 at most {} characters, which is read as unknown",
                numbers::MAX_NUMBER_TEXT
            )
            })
        }
        Category::Syntax => located(format!("not valid JSON: {}", json_message(&error))),
        Category::Data => {
            let message = match number {
                Some(number) => too_large_where_none_belongs(&number.text, &bare_message(&error)),
                None => bare_message(&error),
            };
            match within(field()) {
                at if at.is_empty() => located(format!("not a Terraform plan: {message}")),
                at => located(format!("{at}{message}")),
            }
        }
    }
}

/// A type error at a number too large for a float, which the reader saw as the marker that
/// replaced it: said of the number.
fn too_large_where_none_belongs(number: &str, message: &str) -> String {
    match message.find("expected") {
        Some(at) => format!(
            "invalid type: number `{number}` (too large for a 64-bit float), {}",
            &message[at..]
        ),
        None => format!("the number `{number}` is too large for a 64-bit float: {message}"),
    }
}

fn line_of(error: &serde_json::Error) -> u32 {
    u32::try_from(error.line().max(1)).unwrap_or(u32::MAX)
}

fn column_of(error: &serde_json::Error) -> u32 {
    u32::try_from(error.column().max(1)).unwrap_or(u32::MAX)
}

/// serde_json's own limit, kept so that no input can exhaust the stack.
fn is_too_deep(error: &serde_json::Error) -> bool {
    bare_message(error).starts_with("recursion limit")
}

/// A path of at most about 100 characters: its start and its end.
fn shorten(path: &str) -> String {
    const KEEP: usize = 48;
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= 2 * KEEP + 5 {
        return path.to_string();
    }
    let start: String = chars[..KEEP].iter().collect();
    let end: String = chars[chars.len() - KEEP..].iter().collect();
    format!("{start} ... {end}")
}

/// serde_json's message without the " at line L column C" it appends.
fn bare_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) if error.line() > 0 => message[..at].to_string(),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_of_an_address_keeps_its_keys() {
        assert_eq!(
            module_of(r#"module.a["x.y"].module.b[2].aws_s3_bucket.c[0]"#),
            r#"module.a["x.y"].module.b[2]"#
        );
        assert_eq!(module_of("data.aws_region.current"), "");
        assert_eq!(module_of("module.m.data.aws_region.current"), "module.m");
    }

    #[test]
    fn long_paths_keep_their_ends() {
        let path = "a.".repeat(100);
        let short = shorten(&path);
        assert!(short.len() < 110);
        assert!(short.starts_with("a.a.") && short.contains(" ... "));
    }
}
