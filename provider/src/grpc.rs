//! `tfplugin6.Provider`: decodes each request, runs the resource lifecycle and encodes the
//! answer. Domain problems travel as diagnostics; gRPC errors are kept for requests the
//! provider cannot understand at all.

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::msgpack::DecodeError;
use crate::resource::{self, Context, DataSource, Object, Resource};
use crate::resources;
use crate::schema::{Attribute, NestedBlock, Schema, Validator};
use crate::value::{Type, Value};
use crate::{dates, log, msgpack};
use hipaa_cloud::{AwsSettings, S3Ledger, S3LedgerSettings};
use hipaa_ledger::{DirectoryLedger, LedgerBackend};
use hipaa_proto::tfplugin6 as proto;
use hipaa_proto::tfplugin6::provider_server::Provider;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tonic::{Request, Response, Status};

/// Where the ledger lives when the provider configuration does not say.
pub const DEFAULT_LEDGER_DIR: &str = ".hipaa-ledger";

/// The provider-defined function, called as `provider::hipaa::tls_policy_min_version(name)`.
pub const TLS_FUNCTION: &str = "tls_policy_min_version";

/// A resource type with its schema, built once.
struct RegisteredResource {
    resource: Box<dyn Resource>,
    schema: Schema,
    ty: Type,
}

struct RegisteredDataSource {
    data_source: Box<dyn DataSource>,
    schema: Schema,
    ty: Type,
}

pub struct ProviderService {
    resources: BTreeMap<&'static str, RegisteredResource>,
    data_sources: BTreeMap<&'static str, RegisteredDataSource>,
    provider_schema: Schema,
    /// Set by ConfigureProvider.
    ledger: RwLock<Option<Arc<dyn LedgerBackend>>>,
}

impl Default for ProviderService {
    fn default() -> Self {
        ProviderService::new()
    }
}

pub fn provider_schema() -> Schema {
    Schema {
        version: 0,
        description: "Declares a HIPAA licensing model (licenses, compliance boundaries, PHI \
                      systems, business associate agreements, access roles and security \
                      reviews) and keeps every change in a tamper-evident ledger.",
        attributes: vec![Attribute::optional(
            "ledger_dir",
            Type::String,
            "The directory of the attestation ledger, relative to the working directory. \
             Defaults to `.hipaa-ledger`. Leave it out when the `ledger` block keeps the \
             ledger in S3.",
        )],
        blocks: vec![NestedBlock {
            name: LEDGER_BLOCK,
            description: "Keeps the attestation ledger in an S3 bucket instead of a directory: \
                          one object per record, each written with SSE-KMS under `kms_key_id` \
                          and only if no record has its sequence number yet, so concurrent \
                          applies never replace one. The bucket's default encryption must be \
                          SSE-KMS. Credentials come from the standard AWS chain (environment, \
                          shared files, roles).",
            attributes: vec![
                Attribute::required("s3_bucket", Type::String, "The bucket's name.")
                    .validator(Validator::NotBlank),
                Attribute::optional(
                    "prefix",
                    Type::String,
                    "Prepended to every record's object key, e.g. `prod/hipaa`.",
                ),
                Attribute::required(
                    "kms_key_id",
                    Type::String,
                    "The KMS key (id, ARN or alias) every record is encrypted under.",
                )
                .validator(Validator::NotBlank),
                Attribute::optional(
                    "region",
                    Type::String,
                    "The bucket's region; otherwise `AWS_REGION` or the profile's.",
                ),
                Attribute::optional(
                    "endpoint",
                    Type::String,
                    "An endpoint that replaces AWS's, for S3-compatible services.",
                ),
            ],
        }],
    }
}

/// The provider configuration block that keeps the ledger in S3.
pub const LEDGER_BLOCK: &str = "ledger";

/// The ledger the configuration names: in S3 with the `ledger` block, in the `ledger_dir`
/// directory otherwise (`.hipaa-ledger` when neither is set). `None` after an error, which is
/// in `diagnostics`.
fn configured_ledger(
    fields: &Object,
    diagnostics: &mut Diagnostics,
) -> Option<Arc<dyn LedgerBackend>> {
    let s3 = s3_ledger_settings(fields, diagnostics)?;
    let dir = match fields.get("ledger_dir") {
        Some(Value::String(dir)) => Some(dir.clone()),
        Some(Value::Unknown(_)) => {
            diagnostics.attribute_error(
                AttributePath::root("ledger_dir"),
                "Ledger directory not known yet",
                "ledger_dir must be known when the plan is made.",
            );
            return None;
        }
        _ => None,
    };

    match (s3, dir) {
        (Some(_), Some(_)) => {
            diagnostics.attribute_error(
                AttributePath::root("ledger_dir"),
                "Two ledgers configured",
                "Set either ledger_dir or the ledger block, not both: the provider keeps one \
                 ledger.",
            );
            None
        }
        (Some(settings), None) => {
            let ledger = S3Ledger::open(&settings);
            if let Err(error) = ledger.check_bucket_encryption() {
                diagnostics.attribute_error(
                    AttributePath::root(LEDGER_BLOCK).attribute("s3_bucket"),
                    "Ledger bucket refused",
                    error.to_string(),
                );
                return None;
            }
            log::debug("ledger configured", &[("ledger", &ledger.location())]);
            Some(Arc::new(ledger))
        }
        (None, dir) => {
            let dir = dir.unwrap_or_else(|| DEFAULT_LEDGER_DIR.to_string());
            log::debug("ledger configured", &[("ledger_dir", &dir)]);
            Some(open_ledger(PathBuf::from(dir)))
        }
    }
}

/// Reads the `ledger` block: `Some(None)` when it is left out, `None` after an error.
fn s3_ledger_settings(
    fields: &Object,
    diagnostics: &mut Diagnostics,
) -> Option<Option<S3LedgerSettings>> {
    let block = match fields.get(LEDGER_BLOCK) {
        None | Some(Value::Null) => return Some(None),
        Some(Value::Map(block)) => block,
        Some(_) => {
            diagnostics.attribute_error(
                AttributePath::root(LEDGER_BLOCK),
                "Ledger settings not known yet",
                "The ledger block must be known when the plan is made.",
            );
            return None;
        }
    };
    let mut text = |name: &'static str| match block.get(name) {
        Some(Value::String(value)) => Some(Some(value.clone())),
        Some(Value::Unknown(_)) => {
            diagnostics.attribute_error(
                AttributePath::root(LEDGER_BLOCK).attribute(name),
                "Ledger setting not known yet",
                format!("ledger.{name} must be known when the plan is made."),
            );
            None
        }
        _ => Some(None),
    };
    let bucket = text("s3_bucket")?;
    let prefix = text("prefix")?;
    let kms_key_id = text("kms_key_id")?;
    let region = text("region")?;
    let endpoint = text("endpoint")?;
    Some(Some(S3LedgerSettings {
        bucket: bucket.unwrap_or_default(),
        prefix: prefix.unwrap_or_default(),
        kms_key_id,
        aws: AwsSettings {
            region,
            endpoint,
            profile: None,
        },
    }))
}

/// The function's declaration, shared by the schema and the documentation.
pub fn tls_function() -> proto::Function {
    proto::Function {
        parameters: vec![proto::function::Parameter {
            name: "name".to_string(),
            r#type: Type::String.to_json().to_string().into_bytes(),
            allow_null_value: false,
            allow_unknown_values: false,
            description: "The TLS policy name, e.g. `ELBSecurityPolicy-TLS13-1-2-2021-06`."
                .to_string(),
            description_kind: proto::StringKind::Markdown as i32,
        }],
        variadic_parameter: None,
        r#return: Some(proto::function::Return {
            r#type: Type::String.to_json().to_string().into_bytes(),
        }),
        summary: "The lowest TLS version a named TLS policy allows".to_string(),
        description: "Returns the lowest TLS version (`1.0`, `1.1`, `1.2`, `1.3` or `SSLv3`) that \
                      the named policy lets a client negotiate. Fails for a name that is not in \
                      the policy table."
            .to_string(),
        description_kind: proto::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

impl ProviderService {
    pub fn new() -> ProviderService {
        let resources = resources::all_resources()
            .into_iter()
            .map(|resource| {
                let schema = resource.schema();
                let ty = schema.object_type();
                (
                    resource.type_name(),
                    RegisteredResource {
                        resource,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let data_sources = resources::all_data_sources()
            .into_iter()
            .map(|data_source| {
                let schema = data_source.schema();
                let ty = schema.object_type();
                (
                    data_source.type_name(),
                    RegisteredDataSource {
                        data_source,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        ProviderService {
            resources,
            data_sources,
            provider_schema: provider_schema(),
            ledger: RwLock::new(None),
        }
    }

    /// The full schema response, also used to generate the documentation.
    pub fn schema_response(&self) -> proto::get_provider_schema::Response {
        proto::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self
                .resources
                .iter()
                .map(|(name, registered)| (name.to_string(), registered.schema.to_proto()))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(name, registered)| (name.to_string(), registered.schema.to_proto()))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(proto::ServerCapabilities {
                plan_destroy: true,
                get_provider_schema_optional: true,
                move_resource_state: false,
            }),
            functions: [(TLS_FUNCTION.to_string(), tls_function())].into(),
            ephemeral_resource_schemas: Default::default(),
        }
    }

    fn resource(&self, type_name: &str) -> Result<&RegisteredResource, Status> {
        self.resources
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {type_name:?}")))
    }

    fn data_source(&self, type_name: &str) -> Result<&RegisteredDataSource, Status> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| Status::not_found(format!("unknown data source {type_name:?}")))
    }

    /// The configured ledger, or the default one when a call comes before configuration.
    fn ledger(&self) -> Arc<dyn LedgerBackend> {
        let configured = self.ledger.read().map(|slot| slot.clone()).unwrap_or(None);
        configured.unwrap_or_else(|| open_ledger(PathBuf::from(DEFAULT_LEDGER_DIR)))
    }
}

fn open_ledger(dir: PathBuf) -> Arc<dyn LedgerBackend> {
    Arc::new(DirectoryLedger::open(dir))
}

/// A value of a request that does not fit the schema: which field of the request, and what is
/// wrong where inside it.
struct Undecodable {
    field: &'static str,
    error: DecodeError,
}

/// Decodes the DynamicValue in `field` of a request; an empty one is null. An object (a
/// configuration, a state) is never unknown as a whole: Terraform sends unknowns only inside
/// one, and taking a whole unknown for null would plan or apply a destroy.
fn decode(
    value: Option<&proto::DynamicValue>,
    ty: &Type,
    field: &'static str,
) -> Result<Value, Undecodable> {
    let whole = |message: String| Undecodable {
        field,
        error: DecodeError {
            path: AttributePath::default(),
            message,
        },
    };
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, ty).map_err(|error| Undecodable { field, error })?
    } else if !value.json.is_empty() {
        let json: serde_json::Value =
            serde_json::from_slice(&value.json).map_err(|e| whole(format!("invalid JSON: {e}")))?;
        Value::from_json(&json, ty).map_err(whole)?
    } else {
        Value::Null
    };
    if matches!(ty, Type::Object(_)) && decoded.is_unknown() {
        return Err(whole(
            "the whole object is unknown; only its attributes can be".to_string(),
        ));
    }
    Ok(decoded)
}

fn encode(value: &Value, ty: &Type) -> proto::DynamicValue {
    proto::DynamicValue {
        msgpack: msgpack::encode(value, ty),
        json: Vec::new(),
    }
}

/// A request whose value cannot be decoded against the schema, pinned to the attribute at
/// fault when there is one.
fn undecodable(what: &str, undecodable: Undecodable) -> Diagnostics {
    let Undecodable { field, error } = undecodable;
    let mut diagnostics = Diagnostics::default();
    let summary = format!("Invalid {what}");
    if error.path.0.is_empty() {
        diagnostics.error(summary, format!("{field}: {}", error.message));
    } else {
        let detail = format!("{field} at {}: {}", error.path, error.message);
        diagnostics.attribute_error(error.path, summary, detail);
    }
    diagnostics
}

/// The attributes of an object value; none for null. Borrowed, since a copy per call would
/// only be read and dropped.
fn fields_of(value: &Value) -> &Object {
    static NO_FIELDS: Object = Object::new();
    value.as_map().unwrap_or(&NO_FIELDS)
}

fn context(ledger: &dyn LedgerBackend) -> Context<'_> {
    Context::new(ledger, dates::today())
}

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_provider_schema(
        &self,
        _request: Request<proto::get_provider_schema::Request>,
    ) -> Result<Response<proto::get_provider_schema::Response>, Status> {
        Ok(Response::new(self.schema_response()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<proto::validate_provider_config::Request>,
    ) -> Result<Response<proto::validate_provider_config::Response>, Status> {
        let request = request.into_inner();
        let ty = self.provider_schema.object_type();
        let diagnostics = match decode(request.config.as_ref(), &ty, "config") {
            Ok(config) => {
                let mut diagnostics = Diagnostics::default();
                self.provider_schema.validate(&config, &mut diagnostics);
                diagnostics
            }
            Err(error) => undecodable("provider configuration", error),
        };
        Ok(Response::new(proto::validate_provider_config::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<proto::configure_provider::Request>,
    ) -> Result<Response<proto::configure_provider::Response>, Status> {
        let request = request.into_inner();
        let ty = self.provider_schema.object_type();
        let mut diagnostics = Diagnostics::default();
        match decode(request.config.as_ref(), &ty, "config") {
            Ok(config) => {
                if let Some(ledger) = configured_ledger(fields_of(&config), &mut diagnostics) {
                    if let Ok(mut slot) = self.ledger.write() {
                        *slot = Some(ledger);
                    }
                }
            }
            Err(error) => diagnostics = undecodable("provider configuration", error),
        }
        Ok(Response::new(proto::configure_provider::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<proto::validate_resource_config::Request>,
    ) -> Result<Response<proto::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        let registered = self.resource(&request.type_name)?;
        let diagnostics = match decode(request.config.as_ref(), &registered.ty, "config") {
            Ok(config) => {
                let mut diagnostics = Diagnostics::default();
                registered.schema.validate(&config, &mut diagnostics);
                registered
                    .resource
                    .validate_config(fields_of(&config), &mut diagnostics);
                diagnostics
            }
            Err(error) => undecodable("resource configuration", error),
        };
        Ok(Response::new(proto::validate_resource_config::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<proto::validate_data_resource_config::Request>,
    ) -> Result<Response<proto::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        let registered = self.data_source(&request.type_name)?;
        let diagnostics = match decode(request.config.as_ref(), &registered.ty, "config") {
            Ok(config) => {
                let mut diagnostics = Diagnostics::default();
                registered.schema.validate(&config, &mut diagnostics);
                diagnostics
            }
            Err(error) => undecodable("data source configuration", error),
        };
        Ok(Response::new(
            proto::validate_data_resource_config::Response {
                diagnostics: diagnostics.to_proto(),
            },
        ))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<proto::upgrade_resource_state::Request>,
    ) -> Result<Response<proto::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        let registered = self.resource(&request.type_name)?;
        let mut diagnostics = Diagnostics::default();

        // Every schema is still at version 0, so upgrading is reading the stored JSON with
        // the current schema. Known shortcoming: a stored value of the wrong type is reported
        // without its attribute path, since the JSON reader does not track one.
        let json = request.raw_state.map(|raw| raw.json).unwrap_or_default();
        let upgraded = if json.is_empty() {
            diagnostics.error(
                "Unsupported state format",
                "Only JSON state is supported; state from Terraform before 0.12 is not.",
            );
            None
        } else {
            match serde_json::from_slice::<serde_json::Value>(&json)
                .map_err(|e| e.to_string())
                .and_then(|json| Value::from_json(&json, &registered.ty))
            {
                Ok(value) => Some(encode(&value, &registered.ty)),
                Err(error) => {
                    diagnostics.error("Stored state does not fit the schema", error);
                    None
                }
            }
        };
        Ok(Response::new(proto::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<proto::read_resource::Request>,
    ) -> Result<Response<proto::read_resource::Response>, Status> {
        let request = request.into_inner();
        let registered = self.resource(&request.type_name)?;
        let current = decode(
            request.current_state.as_ref(),
            &registered.ty,
            "current_state",
        );
        let (new_state, diagnostics) = match current {
            Ok(current) => {
                let ledger = self.ledger();
                let context = context(ledger.as_ref());
                let mut diagnostics = Diagnostics::default();
                let state = resource::read_object(
                    registered.resource.as_ref(),
                    &registered.schema,
                    &context,
                    &current,
                    &mut diagnostics,
                );
                (Some(encode(&state, &registered.ty)), diagnostics)
            }
            Err(error) => (None, undecodable("state", error)),
        };
        Ok(Response::new(proto::read_resource::Response {
            new_state,
            diagnostics: diagnostics.to_proto(),
            private: request.private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<proto::plan_resource_change::Request>,
    ) -> Result<Response<proto::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        let registered = self.resource(&request.type_name)?;
        let ty = &registered.ty;
        let decoded = (|| {
            Ok::<_, Undecodable>((
                decode(request.prior_state.as_ref(), ty, "prior_state")?,
                decode(
                    request.proposed_new_state.as_ref(),
                    ty,
                    "proposed_new_state",
                )?,
                decode(request.config.as_ref(), ty, "config")?,
            ))
        })();
        let (prior, proposed, config) = match decoded {
            Ok(values) => values,
            Err(error) => {
                return Ok(Response::new(proto::plan_resource_change::Response {
                    diagnostics: undecodable("plan request", error).to_proto(),
                    ..Default::default()
                }))
            }
        };

        let ledger = self.ledger();
        let context = context(ledger.as_ref());
        let mut diagnostics = Diagnostics::default();
        let plan = resource::plan_change(
            registered.resource.as_ref(),
            &registered.schema,
            &context,
            &prior,
            &proposed,
            &config,
            &mut diagnostics,
        );
        Ok(Response::new(proto::plan_resource_change::Response {
            planned_state: Some(encode(&plan.planned, ty)),
            requires_replace: plan
                .requires_replace
                .iter()
                .map(AttributePath::to_proto)
                .collect(),
            planned_private: request.prior_private,
            diagnostics: diagnostics.to_proto(),
            legacy_type_system: false,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<proto::apply_resource_change::Request>,
    ) -> Result<Response<proto::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        let registered = self.resource(&request.type_name)?;
        let ty = &registered.ty;
        let decoded = (|| {
            Ok::<_, Undecodable>((
                decode(request.prior_state.as_ref(), ty, "prior_state")?,
                decode(request.planned_state.as_ref(), ty, "planned_state")?,
            ))
        })();
        let (prior, planned) = match decoded {
            Ok(values) => values,
            Err(error) => {
                return Ok(Response::new(proto::apply_resource_change::Response {
                    diagnostics: undecodable("apply request", error).to_proto(),
                    ..Default::default()
                }))
            }
        };

        let ledger = self.ledger();
        let context = context(ledger.as_ref());
        let mut diagnostics = Diagnostics::default();
        let new_state = resource::apply_change(
            registered.resource.as_ref(),
            &registered.schema,
            &context,
            &prior,
            &planned,
            &mut diagnostics,
        );
        Ok(Response::new(proto::apply_resource_change::Response {
            new_state: new_state.map(|state| encode(&state, ty)),
            private: request.planned_private,
            diagnostics: diagnostics.to_proto(),
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<proto::import_resource_state::Request>,
    ) -> Result<Response<proto::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        let registered = self.resource(&request.type_name)?;
        let ledger = self.ledger();
        let context = context(ledger.as_ref());
        let mut diagnostics = Diagnostics::default();
        let imported = resource::import_object(
            registered.resource.as_ref(),
            &registered.schema,
            &context,
            &request.id,
            &mut diagnostics,
        );
        Ok(Response::new(proto::import_resource_state::Response {
            imported_resources: imported
                .map(|state| proto::import_resource_state::ImportedResource {
                    type_name: request.type_name.clone(),
                    state: Some(encode(&state, &registered.ty)),
                    private: Vec::new(),
                })
                .into_iter()
                .collect(),
            diagnostics: diagnostics.to_proto(),
            deferred: None,
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<proto::read_data_source::Request>,
    ) -> Result<Response<proto::read_data_source::Response>, Status> {
        let request = request.into_inner();
        let registered = self.data_source(&request.type_name)?;
        let config = match decode(request.config.as_ref(), &registered.ty, "config") {
            Ok(config) => config,
            Err(error) => {
                return Ok(Response::new(proto::read_data_source::Response {
                    diagnostics: undecodable("data source configuration", error).to_proto(),
                    ..Default::default()
                }))
            }
        };
        let ledger = self.ledger();
        let context = context(ledger.as_ref());
        let mut diagnostics = Diagnostics::default();
        let state = registered
            .data_source
            .read(&context, fields_of(&config), &mut diagnostics);
        Ok(Response::new(proto::read_data_source::Response {
            state: Some(encode(&Value::Map(state), &registered.ty)),
            diagnostics: diagnostics.to_proto(),
            deferred: None,
        }))
    }

    async fn call_function(
        &self,
        request: Request<proto::call_function::Request>,
    ) -> Result<Response<proto::call_function::Response>, Status> {
        let request = request.into_inner();
        if request.name != TLS_FUNCTION {
            return Err(Status::not_found(format!(
                "unknown function {:?}",
                request.name
            )));
        }
        let argument = decode(request.arguments.first(), &Type::String, "arguments");
        let name = match &argument {
            Ok(Value::String(name)) => name.as_str(),
            _ => {
                return Ok(Response::new(function_error(
                    "The policy name must be a known string.",
                )))
            }
        };
        let facts = resources::tls_policy::facts(name);
        Ok(Response::new(match facts.min_version {
            Some(version) => proto::call_function::Response {
                result: Some(encode(&Value::string(version), &Type::String)),
                error: None,
            },
            None => function_error(&format!(
                "{name:?} is not in the TLS policy table, so its lowest TLS version is not \
                 known; check the name or use the hipaa_tls_policy data source"
            )),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<proto::get_functions::Request>,
    ) -> Result<Response<proto::get_functions::Response>, Status> {
        Ok(Response::new(proto::get_functions::Response {
            functions: [(TLS_FUNCTION.to_string(), tls_function())].into(),
            diagnostics: Vec::new(),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<proto::stop_provider::Request>,
    ) -> Result<Response<proto::stop_provider::Response>, Status> {
        // Every call finishes in milliseconds and holds no lock across an await, so there is
        // nothing in flight worth cancelling.
        Ok(Response::new(proto::stop_provider::Response {
            error: String::new(),
        }))
    }
}

fn function_error(text: &str) -> proto::call_function::Response {
    proto::call_function::Response {
        result: None,
        error: Some(proto::FunctionError {
            text: text.to_string(),
            function_argument: Some(0),
        }),
    }
}
