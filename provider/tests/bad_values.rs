//! Values Terraform should never send, sent anyway over the real socket: wrong types, truncated
//! msgpack, extensions where values belong, unknown attribute names, invalid UTF-8, nesting
//! deep enough to overflow a stack. Each call must come back as error diagnostics (pinned to
//! the attribute at fault when there is one), never a panic or a dropped connection, and the
//! provider must go on serving.

mod support;

use hipaa_proto::tfplugin6 as proto;
use hipaa_proto::tfplugin6::provider_client::ProviderClient;
use proto::attribute_path::step::Selector;
use support::*;
use tonic::transport::Channel;

/// A msgpack value, written by hand so that any malformation can be expressed.
#[derive(Clone)]
enum Pack {
    Nil,
    Bool(bool),
    Int(i64),
    Str(&'static str),
    /// A string made at run time.
    Text(String),
    List(Vec<Pack>),
    Map(Vec<(Pack, Pack)>),
    /// An extension: Terraform's encoding of an unknown value.
    Ext(i8, Vec<u8>),
    /// Bytes as they are, valid msgpack or not.
    Bytes(Vec<u8>),
}

impl Pack {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Pack::Nil => out.push(0xc0),
            Pack::Bool(flag) => out.push(if *flag { 0xc3 } else { 0xc2 }),
            Pack::Int(n) => {
                out.push(0xd3);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Pack::Str(text) => Pack::Text(text.to_string()).write(out),
            Pack::Text(text) => {
                out.push(0xda);
                out.extend_from_slice(&(text.len() as u16).to_be_bytes());
                out.extend_from_slice(text.as_bytes());
            }
            Pack::List(items) => {
                out.push(0xdc);
                out.extend_from_slice(&(items.len() as u16).to_be_bytes());
                items.iter().for_each(|item| item.write(out));
            }
            Pack::Map(entries) => {
                out.push(0xde);
                out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
                for (key, value) in entries {
                    key.write(out);
                    value.write(out);
                }
            }
            Pack::Ext(code, payload) => {
                out.extend_from_slice(&[0xc7, payload.len() as u8, *code as u8]);
                out.extend_from_slice(payload);
            }
            Pack::Bytes(bytes) => out.extend_from_slice(bytes),
        }
    }
}

fn object(fields: &[(&'static str, Pack)]) -> Pack {
    Pack::Map(
        fields
            .iter()
            .map(|(name, value)| (Pack::Str(name), value.clone()))
            .collect(),
    )
}

fn dynamic(pack: &Pack) -> Option<proto::DynamicValue> {
    Some(proto::DynamicValue {
        msgpack: pack.encode(),
        json: Vec::new(),
    })
}

/// Terraform's plain unknown value.
fn unknown() -> Pack {
    Pack::Ext(0, vec![0])
}

/// A well-formed license, with `changes` replacing or adding attributes.
fn license(changes: &[(&'static str, Pack)]) -> Pack {
    let mut fields = vec![
        ("id", Pack::Str("lic-0123456789abcdef")),
        ("name", Pack::Str("acme")),
        ("version", Pack::Str("1")),
    ];
    for (name, value) in changes {
        fields.retain(|(existing, _)| existing != name);
        fields.push((name, value.clone()));
    }
    object(&fields)
}

/// A string whose bytes are not UTF-8.
fn invalid_utf8() -> Pack {
    Pack::Bytes(vec![0xa3, b'a', 0xff, 0xfe])
}

/// `depth` one-element arrays inside each other around a nil.
fn nested_lists(depth: usize) -> Pack {
    let mut bytes = vec![0x91; depth];
    bytes.push(0xc0);
    Pack::Bytes(bytes)
}

/// The first bytes of a well-formed license.
fn truncated_license() -> Pack {
    let whole = license(&[]).encode();
    Pack::Bytes(whole[..whole.len() / 2].to_vec())
}

/// Which request carries the bad value, and in which of its fields.
enum Call {
    ValidateResource(&'static str, Pack),
    PlanProposed(Pack),
    PlanConfig(Pack),
    PlanPrior(Pack),
    ApplyPlanned(Pack),
    ApplyPrior(Pack),
    Read(Pack),
    ValidateProvider(Pack),
    ConfigureProvider(Pack),
    ValidateDataSource(&'static str, Pack),
    ReadDataSource(&'static str, Pack),
    UpgradeJson(Vec<u8>),
}

/// A diagnostic as the test compares it: severity, summary and the attribute path written out.
#[derive(Debug)]
struct Seen {
    error: bool,
    summary: String,
    detail: String,
    path: Option<String>,
}

fn path_text(path: &proto::AttributePath) -> String {
    let mut text = String::new();
    for step in &path.steps {
        match &step.selector {
            Some(Selector::AttributeName(name)) if text.is_empty() => text.push_str(name),
            Some(Selector::AttributeName(name)) => text.push_str(&format!(".{name}")),
            Some(Selector::ElementKeyInt(index)) => text.push_str(&format!("[{index}]")),
            Some(Selector::ElementKeyString(key)) => text.push_str(&format!("[{key:?}]")),
            None => text.push_str("<empty step>"),
        }
    }
    text
}

fn seen(diagnostics: Vec<proto::Diagnostic>) -> Vec<Seen> {
    diagnostics
        .into_iter()
        .map(|d| Seen {
            error: d.severity == proto::diagnostic::Severity::Error as i32,
            summary: d.summary,
            detail: d.detail,
            path: d.attribute.as_ref().map(path_text),
        })
        .collect()
}

async fn send(
    client: &mut ProviderClient<Channel>,
    call: Call,
) -> Result<Vec<Seen>, tonic::Status> {
    let license_type = "hipaa_license".to_string();
    let diagnostics = match call {
        Call::ValidateResource(type_name, config) => {
            let request = proto::validate_resource_config::Request {
                type_name: type_name.to_string(),
                config: dynamic(&config),
            };
            client
                .validate_resource_config(request)
                .await?
                .into_inner()
                .diagnostics
        }
        Call::PlanProposed(_) | Call::PlanConfig(_) | Call::PlanPrior(_) => {
            let (prior, proposed, config) = match call {
                Call::PlanProposed(bad) => (Pack::Nil, bad, license(&[("id", Pack::Nil)])),
                Call::PlanConfig(bad) => (Pack::Nil, license(&[("id", unknown())]), bad),
                Call::PlanPrior(bad) => (bad, license(&[]), license(&[("id", Pack::Nil)])),
                _ => unreachable!("only plan calls reach here"),
            };
            let request = proto::plan_resource_change::Request {
                type_name: license_type,
                prior_state: dynamic(&prior),
                proposed_new_state: dynamic(&proposed),
                config: dynamic(&config),
                ..Default::default()
            };
            let response = client.plan_resource_change(request).await?.into_inner();
            assert!(response.planned_state.is_none(), "a plan was made");
            response.diagnostics
        }
        Call::ApplyPlanned(_) | Call::ApplyPrior(_) => {
            let (prior, planned) = match call {
                Call::ApplyPlanned(bad) => (license(&[]), bad),
                Call::ApplyPrior(bad) => (bad, license(&[])),
                _ => unreachable!("only apply calls reach here"),
            };
            let request = proto::apply_resource_change::Request {
                type_name: license_type,
                prior_state: dynamic(&prior),
                planned_state: dynamic(&planned),
                config: dynamic(&license(&[])),
                ..Default::default()
            };
            let response = client.apply_resource_change(request).await?.into_inner();
            assert!(response.new_state.is_none(), "a state was returned");
            response.diagnostics
        }
        Call::Read(state) => {
            let request = proto::read_resource::Request {
                type_name: license_type,
                current_state: dynamic(&state),
                ..Default::default()
            };
            let response = client.read_resource(request).await?.into_inner();
            assert!(response.new_state.is_none(), "a state was returned");
            response.diagnostics
        }
        Call::ValidateProvider(config) => {
            let request = proto::validate_provider_config::Request {
                config: dynamic(&config),
            };
            client
                .validate_provider_config(request)
                .await?
                .into_inner()
                .diagnostics
        }
        Call::ConfigureProvider(config) => {
            let request = proto::configure_provider::Request {
                config: dynamic(&config),
                ..Default::default()
            };
            client
                .configure_provider(request)
                .await?
                .into_inner()
                .diagnostics
        }
        Call::ValidateDataSource(type_name, config) => {
            let request = proto::validate_data_resource_config::Request {
                type_name: type_name.to_string(),
                config: dynamic(&config),
            };
            client
                .validate_data_resource_config(request)
                .await?
                .into_inner()
                .diagnostics
        }
        Call::ReadDataSource(type_name, config) => {
            let request = proto::read_data_source::Request {
                type_name: type_name.to_string(),
                config: dynamic(&config),
                ..Default::default()
            };
            let response = client.read_data_source(request).await?.into_inner();
            assert!(response.state.is_none(), "a data source state was returned");
            response.diagnostics
        }
        Call::UpgradeJson(json) => {
            let request = proto::upgrade_resource_state::Request {
                type_name: license_type,
                version: 0,
                raw_state: Some(proto::RawState {
                    json,
                    flatmap: Default::default(),
                }),
            };
            let response = client.upgrade_resource_state(request).await?.into_inner();
            assert!(response.upgraded_state.is_none(), "a state was upgraded");
            response.diagnostics
        }
    };
    Ok(seen(diagnostics))
}

/// One bad request: what it is, and the one error expected back (words of its detail, and the
/// attribute it is pinned to).
struct Case {
    label: &'static str,
    call: Call,
    detail_says: &'static str,
    path: Option<&'static str>,
}

fn case(
    label: &'static str,
    call: Call,
    detail_says: &'static str,
    path: Option<&'static str>,
) -> Case {
    Case {
        label,
        call,
        detail_says,
        path,
    }
}

fn cases() -> Vec<Case> {
    use Call::*;
    let baa = "hipaa_baa";
    let status = "hipaa_compliance_status";
    vec![
        case(
            "a number where a string is expected",
            ValidateResource("hipaa_license", license(&[("name", Pack::Int(42))])),
            "expected \"string\", found an integer",
            Some("name"),
        ),
        case(
            "a map where a list is expected",
            ValidateResource(
                baa,
                object(&[("services", object(&[("a", Pack::Str("s3"))]))]),
            ),
            "expected [\"list\",\"string\"], found a map",
            Some("services"),
        ),
        case(
            "a number inside a list of strings",
            ValidateResource(
                baa,
                object(&[("services", Pack::List(vec![Pack::Str("s3"), Pack::Int(7)]))]),
            ),
            "found an integer",
            Some("services[1]"),
        ),
        case(
            "a bool where a number is expected",
            ValidateResource(
                "hipaa_license",
                license(&[("key_rotation_days", Pack::Bool(true))]),
            ),
            "expected \"number\", found a bool",
            Some("key_rotation_days"),
        ),
        case(
            "a word where a number is expected",
            ValidateResource(
                "hipaa_license",
                license(&[("review_interval_days", Pack::Str("soon"))]),
            ),
            "\"soon\" is not a number",
            Some("review_interval_days"),
        ),
        case(
            "truncated msgpack",
            ValidateResource("hipaa_license", truncated_license()),
            "ends early",
            None,
        ),
        case(
            "bytes after the value",
            ValidateResource(
                "hipaa_license",
                Pack::Bytes([license(&[]).encode(), vec![0xc0]].concat()),
            ),
            "1 bytes left over",
            None,
        ),
        case(
            "the reserved msgpack byte",
            ValidateResource("hipaa_license", Pack::Bytes(vec![0xc1])),
            "reserved msgpack byte",
            None,
        ),
        case(
            "an array claiming four billion items",
            ValidateResource(
                baa,
                Pack::Bytes(vec![
                    0x81, 0xa8, b's', b'e', b'r', b'v', b'i', b'c', b'e', b's', 0xdd, 0xff, 0xff,
                    0xff, 0xff,
                ]),
            ),
            "cannot fit",
            None,
        ),
        case(
            "an extension claiming four gigabytes",
            ValidateResource(
                "hipaa_license",
                Pack::Bytes(vec![0xc9, 0xff, 0xff, 0xff, 0xff, 0x00]),
            ),
            "ends early",
            None,
        ),
        case(
            "an extension as an attribute name",
            ValidateResource(
                "hipaa_license",
                Pack::Map(vec![(unknown(), Pack::Str("x"))]),
            ),
            "attribute name is not a string",
            None,
        ),
        case(
            "an extension as a map key",
            ValidateResource(
                "hipaa_boundary",
                object(&[("phi_tags", Pack::Map(vec![(unknown(), Pack::Str("x"))]))]),
            ),
            "map key is not a string",
            Some("phi_tags"),
        ),
        case(
            "a list where a map is expected",
            ValidateResource(
                "hipaa_boundary",
                object(&[("phi_tags", Pack::List(vec![]))]),
            ),
            "found an array",
            Some("phi_tags"),
        ),
        case(
            "a number as a map value",
            ValidateResource(
                "hipaa_boundary",
                object(&[("phi_tags", object(&[("team", Pack::Int(1))]))]),
            ),
            "found an integer",
            Some("phi_tags[\"team\"]"),
        ),
        case(
            "an unknown attribute name",
            ValidateResource("hipaa_license", license(&[("bogus", Pack::Str("x"))])),
            "unexpected attribute \"bogus\"",
            None,
        ),
        case(
            "a string that is not UTF-8",
            ValidateResource("hipaa_license", object(&[("name", invalid_utf8())])),
            "is not UTF-8",
            None,
        ),
        case(
            "lists nested a million deep",
            ValidateResource(baa, object(&[("services", nested_lists(1_000_000))])),
            "nested deeper than",
            None,
        ),
        case(
            "a whole configuration that is unknown",
            ValidateResource("hipaa_license", unknown()),
            "the whole object is unknown",
            None,
        ),
        case(
            "a wrong type in the proposed state",
            PlanProposed(license(&[("version", Pack::List(vec![]))])),
            "proposed_new_state at version",
            Some("version"),
        ),
        case(
            "a whole proposed state that is unknown",
            PlanProposed(unknown()),
            "proposed_new_state: the whole object is unknown",
            None,
        ),
        case(
            "a truncated configuration in a plan",
            PlanConfig(truncated_license()),
            "config: value ends early",
            None,
        ),
        case(
            "an unknown attribute in the prior state",
            PlanPrior(license(&[("legacy", Pack::Nil)])),
            "prior_state: unexpected attribute \"legacy\"",
            None,
        ),
        case(
            "a whole planned state that is unknown",
            ApplyPlanned(unknown()),
            "planned_state: the whole object is unknown",
            None,
        ),
        case(
            "a map where a string is planned",
            ApplyPlanned(license(&[("name", object(&[("a", Pack::Nil)]))])),
            "planned_state at name",
            Some("name"),
        ),
        case(
            "a whole prior state that is unknown",
            ApplyPrior(unknown()),
            "prior_state: the whole object is unknown",
            None,
        ),
        case(
            "a whole current state that is unknown",
            Read(unknown()),
            "current_state: the whole object is unknown",
            None,
        ),
        case(
            "a current state deeper than any schema",
            Read(nested_lists(200)),
            "nested deeper than",
            None,
        ),
        case(
            "a number for the ledger directory",
            ValidateProvider(object(&[("ledger_dir", Pack::Int(5))])),
            "expected \"string\"",
            Some("ledger_dir"),
        ),
        case(
            "a number inside the ledger block",
            ValidateProvider(object(&[(
                "ledger",
                object(&[("s3_bucket", Pack::Int(1))]),
            )])),
            "expected \"string\"",
            Some("ledger.s3_bucket"),
        ),
        case(
            "a list for the ledger block",
            ConfigureProvider(object(&[("ledger", Pack::List(vec![]))])),
            "found an array",
            Some("ledger"),
        ),
        case(
            "a provider configuration that is unknown",
            ConfigureProvider(unknown()),
            "the whole object is unknown",
            None,
        ),
        case(
            "a number for a data source's license",
            ValidateDataSource(status, object(&[("license_id", Pack::Int(3))])),
            "expected \"string\"",
            Some("license_id"),
        ),
        case(
            "a bool for a computed list of a data source",
            ReadDataSource(status, object(&[("expired_baas", Pack::Bool(true))])),
            "found a bool",
            Some("expired_baas"),
        ),
        case(
            "stored state that is not JSON",
            UpgradeJson(b"{\"name\": ".to_vec()),
            "EOF",
            None,
        ),
        case(
            "stored state of the wrong type",
            UpgradeJson(br#"{"name": 5}"#.to_vec()),
            "expected \"string\"",
            None,
        ),
        case(
            "stored state with an unknown attribute",
            UpgradeJson(br#"{"name": "acme", "bogus": true}"#.to_vec()),
            "unexpected attribute \"bogus\"",
            None,
        ),
        case(
            "stored state that is not UTF-8",
            UpgradeJson(b"{\"name\": \"\xff\xfe\"}".to_vec()),
            "invalid unicode",
            None,
        ),
        case(
            "stored state nested ten thousand deep",
            UpgradeJson([b"{\"name\": ".to_vec(), vec![b'['; 10_000]].concat()),
            "recursion limit",
            None,
        ),
    ]
}

#[tokio::test]
async fn bad_values_get_error_diagnostics_and_the_provider_keeps_serving() {
    let dir = scratch_dir("bad-values");
    let identity = terraform_shaped_identity(&dir, "terraform");
    let mut plugin = launch_with_tls(&identity);
    let channel = connect(&plugin, Some(&identity)).await.unwrap();
    let mut client = ProviderClient::new(channel.clone());

    // A ledger of its own, which no bad call may write to.
    let ledger_dir = dir.join("ledger");
    let configured = send(
        &mut client,
        Call::ConfigureProvider(object(&[(
            "ledger_dir",
            Pack::Text(ledger_dir.display().to_string()),
        )])),
    )
    .await
    .unwrap();
    assert!(configured.is_empty(), "{configured:?}");

    let mut failures = Vec::new();
    for Case {
        label,
        call,
        detail_says,
        path,
    } in cases()
    {
        let answer = send(&mut client, call).await;
        assert!(
            is_alive(&mut plugin),
            "{label}: the provider died\n{}",
            plugin.log()
        );
        let diagnostics = match answer {
            Ok(diagnostics) => diagnostics,
            Err(status) => {
                failures.push(format!(
                    "{label}: a gRPC error instead of diagnostics: {status}"
                ));
                continue;
            }
        };
        let errors: Vec<&Seen> = diagnostics.iter().filter(|d| d.error).collect();
        let [error] = errors.as_slice() else {
            failures.push(format!("{label}: not exactly one error: {diagnostics:?}"));
            continue;
        };
        if !error.summary.starts_with("Invalid ") && !error.summary.contains("state") {
            failures.push(format!("{label}: summary {:?}", error.summary));
        }
        if !error.detail.contains(detail_says) {
            failures.push(format!(
                "{label}: detail {:?} lacks {detail_says:?}",
                error.detail
            ));
        }
        if error.path.as_deref() != path {
            failures.push(format!("{label}: pinned to {:?}, not {path:?}", error.path));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The function's one argument, malformed every way: a function error naming it.
    let arguments = [
        ("a number", vec![Pack::Int(7)]),
        ("a string that is not UTF-8", vec![invalid_utf8()]),
        ("a truncated string", vec![Pack::Bytes(vec![0xa5, b'a'])]),
        ("an unknown", vec![unknown()]),
        ("lists nested a million deep", vec![nested_lists(1_000_000)]),
        ("no argument at all", vec![]),
    ];
    for (label, arguments) in arguments {
        let request = proto::call_function::Request {
            name: "tls_policy_min_version".to_string(),
            arguments: arguments.iter().filter_map(dynamic).collect(),
        };
        let answer = client.call_function(request).await;
        assert!(
            is_alive(&mut plugin),
            "{label}: the provider died\n{}",
            plugin.log()
        );
        let answer = answer.unwrap_or_else(|status| panic!("{label}: {status}"));
        let answer = answer.into_inner();
        assert_eq!(answer.result, None, "{label}");
        let error = answer.error.unwrap_or_else(|| panic!("{label}: no error"));
        assert_eq!(error.function_argument, Some(0), "{label}");
        assert!(
            error.text.contains("must be a known string"),
            "{label}: {}",
            error.text
        );
    }

    // Ids no declaration has: one error each, and nothing imported.
    for id in [
        "",
        "../../etc/passwd",
        "lic-\u{0}\u{202e}",
        &"x".repeat(100_000),
    ] {
        let request = proto::import_resource_state::Request {
            type_name: "hipaa_license".to_string(),
            id: id.to_string(),
            ..Default::default()
        };
        let answer = client.import_resource_state(request).await;
        assert!(
            is_alive(&mut plugin),
            "import: the provider died\n{}",
            plugin.log()
        );
        let answer = answer.unwrap().into_inner();
        assert!(answer.imported_resources.is_empty());
        let errors: Vec<String> = seen(answer.diagnostics)
            .into_iter()
            .filter(|d| d.error)
            .map(|d| d.summary)
            .collect();
        assert_eq!(errors, ["Cannot import"]);
    }

    // Still serving on the same connection, and nothing was recorded.
    let types = resource_types(channel).await.unwrap();
    assert_eq!(types.len(), 6, "{types:?}");
    assert!(!ledger_dir.exists(), "a bad call wrote to the ledger");
    let _ = std::fs::remove_dir_all(dir);
}
