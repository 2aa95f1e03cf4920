//! Registry documentation (`docs/` in the layout the Terraform registry reads), rendered from
//! the provider's own schemas and the configurations under `examples/`:
//!
//! - `index.md` with `examples/provider/main.tf`;
//! - `resources/<name>.md` with `examples/resources/<type>/resource.tf` and `import.sh`;
//! - `data-sources/<name>.md` with `examples/data-sources/<type>/data-source.tf`;
//! - `functions/<name>.md` with `examples/functions/<name>/function.tf`.
//!
//! Run `terraform-provider-hipaa docs --out docs` from the repository root to refresh it; a
//! test fails when the committed pages differ from what this renders.

use crate::grpc::{provider_schema, tls_function, TLS_FUNCTION};
use crate::resources::{all_data_sources, all_resources};
use crate::schema::{Attribute, Presence, Schema};
use crate::value::Type;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PROVIDER_NAME: &str = "hipaa";

/// Every page, by path relative to the docs directory.
pub fn render(examples: &Path) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut pages = BTreeMap::new();
    pages.insert(PathBuf::from("index.md"), index_page(examples)?);

    for resource in all_resources() {
        let name = resource.type_name();
        let folder = examples.join("resources").join(name);
        let page = object_page(
            name,
            "Resource",
            &resource.schema(),
            &read_example(&folder.join("resource.tf"))?,
            Some(&read_example(&folder.join("import.sh"))?),
        );
        pages.insert(PathBuf::from("resources").join(page_file(name)), page);
    }

    for data_source in all_data_sources() {
        let name = data_source.type_name();
        let example = examples
            .join("data-sources")
            .join(name)
            .join("data-source.tf");
        let page = object_page(
            name,
            "Data Source",
            &data_source.schema(),
            &read_example(&example)?,
            None,
        );
        pages.insert(PathBuf::from("data-sources").join(page_file(name)), page);
    }

    let example = examples
        .join("functions")
        .join(TLS_FUNCTION)
        .join("function.tf");
    pages.insert(
        PathBuf::from("functions").join(format!("{TLS_FUNCTION}.md")),
        function_page(&read_example(&example)?),
    );
    Ok(pages)
}

/// Writes every page under `out`, replacing what is there.
pub fn write(examples: &Path, out: &Path) -> Result<usize, String> {
    let pages = render(examples)?;
    for (relative, text) in &pages {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(pages.len())
}

/// The command line: `docs [--out DIR] [--examples DIR]`.
pub fn run(arguments: &[String]) -> std::process::ExitCode {
    let mut out = PathBuf::from("docs");
    let mut examples = PathBuf::from("examples");
    let mut rest = arguments.iter();
    while let Some(argument) = rest.next() {
        let target = match argument.as_str() {
            "--out" => &mut out,
            "--examples" => &mut examples,
            other => {
                eprintln!("docs: unknown argument {other:?}; expected --out DIR or --examples DIR");
                return std::process::ExitCode::from(2);
            }
        };
        match rest.next() {
            Some(value) => *target = PathBuf::from(value),
            None => {
                eprintln!("docs: {argument} needs a directory");
                return std::process::ExitCode::from(2);
            }
        }
    }
    match write(&examples, &out) {
        Ok(count) => {
            eprintln!("wrote {count} pages to {}", out.display());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("docs: {error}");
            std::process::ExitCode::from(1)
        }
    }
}

fn read_example(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|text| text.trim_end().to_string())
        .map_err(|e| format!("example {} is missing: {e}", path.display()))
}

/// Registry pages drop the provider prefix: `hipaa_license` is `license.md`.
fn page_file(type_name: &str) -> String {
    let short = type_name
        .strip_prefix(&format!("{PROVIDER_NAME}_"))
        .unwrap_or(type_name);
    format!("{short}.md")
}

fn frontmatter(title: &str, description: &str) -> String {
    format!(
        "---\npage_title: \"{title}\"\nsubcategory: \"\"\ndescription: |-\n  {}\n---\n\n",
        first_sentence(description)
    )
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

fn index_page(examples: &Path) -> Result<String, String> {
    let schema = provider_schema();
    let example = read_example(&examples.join("provider").join("main.tf"))?;
    let mut page = frontmatter(&format!("{PROVIDER_NAME} Provider"), schema.description);
    page.push_str(&format!(
        "# {PROVIDER_NAME} Provider\n\n{}\n\n",
        schema.description
    ));
    page.push_str(
        "Every create, update and destroy appends a record to the attestation ledger: an \
         append-only chain of files, each sealed with a SHA-256 hash that covers the record \
         before it. Destroying a resource appends a retirement record and deletes nothing.\n\n",
    );
    page.push_str(&format!(
        "## Example Usage\n\n```terraform\n{example}\n```\n\n"
    ));
    page.push_str(&schema_section(&schema));
    Ok(page)
}

fn object_page(
    name: &str,
    kind: &str,
    schema: &Schema,
    example: &str,
    import: Option<&str>,
) -> String {
    let mut page = frontmatter(
        &format!("{name} {kind} - {PROVIDER_NAME}"),
        schema.description,
    );
    page.push_str(&format!("# {name} ({kind})\n\n{}\n\n", schema.description));
    page.push_str(&format!(
        "## Example Usage\n\n```terraform\n{example}\n```\n\n"
    ));
    page.push_str(&schema_section(schema));
    if let Some(import) = import {
        page.push_str(&format!(
            "\n## Import\n\nImport by id; the object must be live in the ledger.\n\n\
             ```shell\n{import}\n```\n"
        ));
    }
    page
}

fn schema_section(schema: &Schema) -> String {
    let mut section =
        String::from("<!-- schema generated by terraform-provider-hipaa docs -->\n## Schema\n");
    section.push_str(&attribute_groups(&schema.attributes, "###"));
    if schema.blocks.is_empty() {
        return section;
    }
    section.push_str("\n### Blocks\n\n");
    for block in &schema.blocks {
        section.push_str(&format!(
            "- `{}` (Block, Optional) {} (see [below](#nestedblock--{}))\n",
            block.name, block.description, block.name
        ));
    }
    for block in &schema.blocks {
        section.push_str(&format!(
            "\n<a id=\"nestedblock--{}\"></a>\n### Nested Schema for `{}`\n",
            block.name, block.name
        ));
        section.push_str(&attribute_groups(&block.attributes, "####"));
    }
    section
}

/// The attributes grouped as Required, Optional and Read-Only, each group under a heading of
/// the given level.
fn attribute_groups(attributes: &[Attribute], heading: &str) -> String {
    let mut section = String::new();
    let groups = [
        ("Required", &[Presence::Required][..]),
        (
            "Optional",
            &[Presence::Optional, Presence::OptionalComputed][..],
        ),
        ("Read-Only", &[Presence::Computed][..]),
    ];
    for (title, presences) in groups {
        let mut group: Vec<_> = attributes
            .iter()
            .filter(|attribute| presences.contains(&attribute.presence))
            .collect();
        if group.is_empty() {
            continue;
        }
        group.sort_by_key(|attribute| attribute.name);
        section.push_str(&format!("\n{heading} {title}\n\n"));
        for attribute in group {
            section.push_str(&format!(
                "- `{}` ({}) {}\n",
                attribute.name,
                type_label(&attribute.ty),
                attribute.full_description()
            ));
        }
    }
    section
}

fn type_label(ty: &Type) -> String {
    match ty {
        Type::String => "String".to_string(),
        Type::Number => "Number".to_string(),
        Type::Bool => "Boolean".to_string(),
        Type::Dynamic => "Dynamic".to_string(),
        Type::List(element) => format!("List of {}", type_label(element)),
        Type::Set(element) => format!("Set of {}", type_label(element)),
        Type::Map(element) => format!("Map of {}", type_label(element)),
        Type::Object(_) => "Object".to_string(),
        Type::Tuple(_) => "Tuple".to_string(),
    }
}

fn function_page(example: &str) -> String {
    let function = tls_function();
    let mut page = frontmatter(
        &format!("{TLS_FUNCTION} function - {PROVIDER_NAME}"),
        &function.summary,
    );
    page.push_str(&format!(
        "# function: {TLS_FUNCTION}\n\n{}\n\n",
        function.description
    ));
    page.push_str(&format!(
        "## Example Usage\n\n```terraform\n{example}\n```\n\n"
    ));
    let parameters: Vec<String> = function
        .parameters
        .iter()
        .map(|parameter| format!("{} string", parameter.name))
        .collect();
    page.push_str(&format!(
        "## Signature\n\n```text\n{TLS_FUNCTION}({}) string\n```\n\n## Arguments\n\n",
        parameters.join(", ")
    ));
    for (position, parameter) in function.parameters.iter().enumerate() {
        page.push_str(&format!(
            "{}. `{}` (String) {}\n",
            position + 1,
            parameter.name,
            parameter.description
        ));
    }
    page
}
