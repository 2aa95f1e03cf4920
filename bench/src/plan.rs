//! `terraform show -json` plans of any size, written as Terraform writes them: one line,
//! `planned_values` with nested child modules, `resource_changes` with unknown and sensitive
//! markers, `prior_state`, and `configuration` with references and module calls.
//!
//! The plan is streamed: each resource is rendered when its section is written, so a plan of a
//! million resources needs no more memory than one of a hundred.

use crate::{Rng, Tenant};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

const ACCOUNT: &str = "123456789012";
const TERRAFORM_VERSION: &str = "1.11.4";
const AWS: &str = "registry.terraform.io/hashicorp/aws";

/// What a generated plan holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanStats {
    /// Instances that exist after apply (what a loader should return).
    pub resources: usize,
    /// Instances the plan destroys, listed only in `resource_changes` and `prior_state`.
    pub deleted: usize,
    pub tenants: usize,
}

/// Where a resource block lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Root,
    /// The tenant module, `./modules/tenant`, called once per group with `for_each`.
    Tenant,
    /// The logging module the tenant module calls, `../logging`.
    Logging,
}

/// One resource block of the estate.
struct Kind {
    place: Place,
    data: bool,
    resource_type: &'static str,
    name: &'static str,
    /// How many instances a tenant has; `None` for a block without `count`.
    count: Option<fn(&Tenant) -> usize>,
}

const fn block(place: Place, resource_type: &'static str, name: &'static str) -> Kind {
    Kind {
        place,
        data: false,
        resource_type,
        name,
        count: None,
    }
}

const fn counted(
    place: Place,
    resource_type: &'static str,
    name: &'static str,
    count: fn(&Tenant) -> usize,
) -> Kind {
    Kind {
        place,
        data: false,
        resource_type,
        name,
        count: Some(count),
    }
}

const fn data(resource_type: &'static str, name: &'static str) -> Kind {
    Kind {
        place: Place::Root,
        data: true,
        resource_type,
        name,
        count: None,
    }
}

/// Every block, in the order Terraform lists them per module.
const KINDS: &[Kind] = &[
    block(Place::Root, "aws_kms_key", "platform"),
    block(Place::Root, "aws_kms_alias", "platform"),
    block(Place::Root, "aws_kms_key", "audit"),
    block(Place::Root, "aws_cloudwatch_log_group", "audit"),
    block(Place::Root, "aws_s3_bucket", "audit"),
    block(
        Place::Root,
        "aws_s3_bucket_server_side_encryption_configuration",
        "audit",
    ),
    block(Place::Root, "aws_s3_bucket_versioning", "audit"),
    data("aws_caller_identity", "current"),
    data("aws_region", "current"),
    data("aws_iam_policy_document", "platform_key"),
    block(Place::Tenant, "aws_kms_key", "tenant"),
    block(Place::Tenant, "aws_kms_alias", "tenant"),
    block(Place::Tenant, "aws_s3_bucket", "phi"),
    counted(
        Place::Tenant,
        "aws_s3_bucket_server_side_encryption_configuration",
        "phi",
        |t| usize::from(t.bucket_encrypted),
    ),
    block(Place::Tenant, "aws_s3_bucket_versioning", "phi"),
    block(Place::Tenant, "aws_s3_bucket_public_access_block", "phi"),
    counted(Place::Tenant, "aws_ebs_volume", "data", |_| 2),
    block(Place::Tenant, "aws_db_parameter_group", "main"),
    block(Place::Tenant, "aws_db_instance", "main"),
    counted(Place::Tenant, "aws_rds_cluster", "analytics", |t| {
        usize::from(t.has_cluster)
    }),
    block(Place::Tenant, "aws_lb", "app"),
    block(Place::Tenant, "aws_lb_listener", "front"),
    block(Place::Tenant, "aws_cloudfront_distribution", "portal"),
    block(Place::Tenant, "aws_dynamodb_table", "sessions"),
    block(Place::Tenant, "aws_sqs_queue", "events"),
    block(Place::Tenant, "aws_sns_topic", "alerts"),
    block(Place::Tenant, "aws_efs_file_system", "shared"),
    block(Place::Tenant, "aws_elasticache_replication_group", "cache"),
    block(Place::Tenant, "aws_security_group", "app"),
    block(Place::Tenant, "aws_iam_role", "app"),
    block(Place::Logging, "aws_cloudwatch_log_group", "this"),
    block(Place::Logging, "aws_s3_bucket", "archive"),
];

/// A block retired by this plan in some tenants: destroyed, so not loaded.
const RETIRED: Kind = block(Place::Tenant, "aws_s3_bucket", "legacy_exports");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
    /// A data source read while planning: only in the prior state.
    ReadNow,
}

impl Action {
    fn names(self) -> &'static [&'static str] {
        match self {
            Action::NoOp | Action::ReadNow => &["no-op"],
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::Replace => &["delete", "create"],
            Action::Delete => &["delete"],
        }
    }
}

/// One resource instance to write.
struct Slot {
    kind: &'static Kind,
    index: Option<usize>,
    action: Action,
    /// Seeds the instance's ids, so that each section renders the same instance alike.
    seed: u64,
}

/// A module instance with its resources, in the order they are written.
struct ModuleInstance {
    address: String,
    tenant: Option<usize>,
    slots: Vec<Slot>,
    children: Vec<ModuleInstance>,
}

/// The whole estate of a plan.
struct Estate {
    tenants: Vec<Tenant>,
    root: ModuleInstance,
    groups: usize,
    stats: PlanStats,
}

/// Writes a plan with exactly `resources` instances that exist after apply.
pub fn write_plan<W: Write>(out: W, resources: usize, seed: u64) -> io::Result<PlanStats> {
    let estate = Estate::plan(resources, seed);
    let mut writer = PlanWriter {
        out: io::BufWriter::with_capacity(1 << 20, out),
        estate: &estate,
    };
    writer.write()?;
    writer.out.flush()?;
    Ok(estate.stats)
}

impl Estate {
    fn plan(resources: usize, seed: u64) -> Estate {
        let mut rng = Rng::new(seed);
        let mut estate = Estate {
            tenants: Vec::new(),
            root: ModuleInstance {
                address: String::new(),
                tenant: None,
                slots: Vec::new(),
                children: Vec::new(),
            },
            groups: 0,
            stats: PlanStats {
                resources: 0,
                deleted: 0,
                tenants: 0,
            },
        };
        let mut left = resources;

        for kind in KINDS.iter().filter(|k| k.place == Place::Root) {
            if left == 0 {
                break;
            }
            let action = if kind.data {
                Action::ReadNow
            } else {
                Action::NoOp
            };
            estate.root.slots.push(Slot {
                kind,
                index: None,
                action,
                seed: rng.next_u64(),
            });
            left -= 1;
        }

        while left > 0 {
            let tenant = Tenant::new(estate.tenants.len(), seed);
            let module = format!("module.tenants_{}[\"{}\"]", tenant.group, tenant.key);
            let mut instance = ModuleInstance {
                address: module.clone(),
                tenant: Some(estate.tenants.len()),
                slots: Vec::new(),
                children: vec![ModuleInstance {
                    address: format!("{module}.module.logging"),
                    tenant: Some(estate.tenants.len()),
                    slots: Vec::new(),
                    children: Vec::new(),
                }],
            };

            for kind in KINDS.iter().filter(|k| k.place != Place::Root) {
                let (count, indexed) = match kind.count {
                    Some(count) => (count(&tenant), true),
                    None => (1, false),
                };
                for i in 0..count {
                    if left == 0 {
                        break;
                    }
                    let action = match (tenant.is_new, rng.below(100)) {
                        (true, _) => Action::Create,
                        (false, 0..=84) => Action::NoOp,
                        (false, 85..=94) => Action::Update,
                        (false, _) => Action::Replace,
                    };
                    let slot = Slot {
                        kind,
                        index: indexed.then_some(i),
                        action,
                        seed: rng.next_u64(),
                    };
                    match kind.place {
                        Place::Logging => instance.children[0].slots.push(slot),
                        _ => instance.slots.push(slot),
                    }
                    left -= 1;
                }
            }
            if !tenant.is_new && rng.chance(1, 10) {
                instance.slots.push(Slot {
                    kind: &RETIRED,
                    index: None,
                    action: Action::Delete,
                    seed: rng.next_u64(),
                });
                estate.stats.deleted += 1;
            }

            estate.groups = tenant.group + 1;
            estate.tenants.push(tenant);
            estate.root.children.push(instance);
        }

        estate.stats.resources = resources;
        estate.stats.tenants = estate.tenants.len();
        estate
    }
}

/// One instance's values as a plan shows them.
struct Rendered {
    values: Map<String, Value>,
    unknown: Map<String, Value>,
    sensitive: Map<String, Value>,
}

/// Builds the attributes of one instance.
struct Attributes<'t> {
    tenant: Option<&'t Tenant>,
    /// The instance exists: computed attributes (ids, ARNs) are known.
    computed_known: bool,
    /// The tenant's own KMS key exists, so its ARN is known.
    tenant_key_known: bool,
    region: &'static str,
    rng: Rng,
    out: Rendered,
}

impl Attributes<'_> {
    fn set(&mut self, name: &str, value: Value) {
        self.out.values.insert(name.to_string(), value);
    }

    /// An attribute the provider sets: absent and marked unknown until the instance exists.
    fn computed(&mut self, name: &str, value: Value) {
        if self.computed_known {
            self.set(name, value);
        } else {
            self.out.unknown.insert(name.to_string(), Value::Bool(true));
        }
    }

    fn secret(&mut self, name: &str, value: Value) {
        self.set(name, value);
        self.out
            .sensitive
            .insert(name.to_string(), Value::Bool(true));
    }

    fn key(&self) -> &str {
        self.tenant.map_or("platform", |t| t.key.as_str())
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{ACCOUNT}:{resource}", self.region)
    }

    /// The tenant key's ARN, or `None` while it is being created.
    fn tenant_key_arn(&mut self) -> Option<String> {
        let id = Rng::new(hash(self.key())).uuid();
        self.tenant_key_known
            .then(|| self.arn("kms", &format!("key/{id}")))
    }

    fn platform_key_arn(&self) -> String {
        let id = Rng::new(hash("platform")).uuid();
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}")
    }

    fn tags(&mut self, name: &str) {
        let key = self.key().to_string();
        let tags = json!({
            "Name": name,
            "Tenant": key,
            "DataClass": "phi",
            "Environment": "production",
            "CostCenter": format!("cc-{}", hash(&key) % 9000 + 1000),
        });
        let mut all = tags.clone();
        all["ManagedBy"] = json!("terraform");
        all["Owner"] = json!("platform-team");
        self.set("tags", tags);
        self.computed("tags_all", all);
    }
}

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Estate {
    fn render(
        &self,
        module: &ModuleInstance,
        slot: &Slot,
        computed_known: bool,
        tenant_key_known: bool,
    ) -> Rendered {
        let tenant = module.tenant.map(|i| &self.tenants[i]);
        let mut a = Attributes {
            tenant,
            computed_known,
            tenant_key_known,
            region: region_of(tenant),
            rng: Rng::new(slot.seed),
            out: Rendered {
                values: Map::new(),
                unknown: Map::new(),
                sensitive: Map::new(),
            },
        };
        render_kind(&mut a, slot);
        a.out
    }
}

/// Every fourth group of tenants runs in the disaster-recovery region.
fn region_of(tenant: Option<&Tenant>) -> &'static str {
    match tenant {
        Some(t) if t.group % 4 == 3 => "us-west-2",
        _ => "us-east-1",
    }
}

fn render_kind(a: &mut Attributes, slot: &Slot) {
    let key = a.key().to_string();
    let tenant = a.tenant.cloned();
    let t = tenant.as_ref();
    let region = a.region;
    let id = a.rng.hex(17);

    match (slot.kind.resource_type, slot.kind.name) {
        ("aws_kms_key", name) => {
            let rotation = t.is_none_or(|t| t.key_rotation) && name != "audit";
            let key_id = Rng::new(hash(if name == "tenant" { &key } else { name })).uuid();
            a.set("description", json!(format!("{key} {name} data key")));
            a.set("enable_key_rotation", json!(rotation));
            a.set("rotation_period_in_days", json!(365));
            a.set("deletion_window_in_days", json!(30));
            a.set("key_usage", json!("ENCRYPT_DECRYPT"));
            a.set("customer_master_key_spec", json!("SYMMETRIC_DEFAULT"));
            a.set("is_enabled", json!(true));
            a.set("multi_region", json!(false));
            a.set("bypass_policy_lockout_safety_check", json!(false));
            a.set("custom_key_store_id", Value::Null);
            a.set("xks_key_id", Value::Null);
            let arn = a.arn("kms", &format!("key/{key_id}"));
            a.computed("arn", json!(arn));
            a.computed("id", json!(key_id));
            a.computed("key_id", json!(key_id));
            a.computed(
                "policy",
                json!(format!(
                    "{{\"Version\":\"2012-10-17\",\"Id\":\"key-default-1\",\"Statement\":[{{\
                     \"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\"\
                     :{{\"AWS\":\"arn:aws:iam::{ACCOUNT}:root\"}},\"Action\":\"kms:*\",\
                     \"Resource\":\"*\"}}]}}"
                )),
            );
            a.tags(&format!("{key}-{name}"));
        }
        ("aws_kms_alias", name) => {
            a.set("name", json!(format!("alias/{key}-{name}")));
            a.set("name_prefix", Value::Null);
            match (name, a.tenant_key_arn()) {
                ("platform", _) => {
                    let arn = a.platform_key_arn();
                    a.set("target_key_id", json!(arn));
                }
                (_, Some(arn)) => a.set("target_key_id", json!(arn)),
                (_, None) => {
                    a.out.unknown.insert("target_key_id".into(), json!(true));
                }
            }
            let arn = a.arn("kms", &format!("alias/{key}-{name}"));
            a.computed("arn", json!(arn));
            a.computed("id", json!(format!("alias/{key}-{name}")));
            a.computed("target_key_arn", json!(a.platform_key_arn()));
        }
        ("aws_s3_bucket", name) => {
            let bucket = format!("acme-{key}-{}", name.replace('_', "-"));
            a.set("bucket", json!(bucket));
            a.set("bucket_prefix", Value::Null);
            a.set("force_destroy", json!(false));
            a.set("object_lock_enabled", json!(false));
            a.set("timeouts", Value::Null);
            a.computed("id", json!(bucket));
            a.computed("arn", json!(format!("arn:aws:s3:::{bucket}")));
            a.computed(
                "bucket_domain_name",
                json!(format!("{bucket}.s3.amazonaws.com")),
            );
            a.computed(
                "bucket_regional_domain_name",
                json!(format!("{bucket}.s3.{region}.amazonaws.com")),
            );
            a.computed("hosted_zone_id", json!("Z3AQBSTGFYJSTF"));
            a.computed("region", json!(region));
            a.computed("request_payer", json!("BucketOwner"));
            a.computed("acceleration_status", json!(""));
            a.computed(
                "server_side_encryption_configuration",
                json!([{"rule": [{"apply_server_side_encryption_by_default": [
                    {"kms_master_key_id": "", "sse_algorithm": "AES256"}],
                    "bucket_key_enabled": false}]}]),
            );
            a.computed(
                "versioning",
                json!([{"enabled": false, "mfa_delete": false}]),
            );
            a.computed("grant", json!([]));
            a.computed("lifecycle_rule", json!([]));
            a.computed("logging", json!([]));
            a.computed("policy", json!(""));
            a.tags(&bucket);
        }
        ("aws_s3_bucket_server_side_encryption_configuration", name) => {
            let bucket = format!("acme-{key}-{name}");
            let uses_kms = t.is_none_or(|t| t.bucket_uses_kms);
            a.computed("bucket", json!(bucket));
            a.computed("id", json!(bucket));
            a.set("expected_bucket_owner", json!(""));
            let key_arn = match (name, uses_kms) {
                ("audit", _) => Some(Some(a.platform_key_arn())),
                (_, true) => Some(a.tenant_key_arn()),
                (_, false) => None,
            };
            let algorithm = if key_arn.is_some() {
                "aws:kms"
            } else {
                "AES256"
            };
            let mut by_default = json!({"sse_algorithm": algorithm});
            match key_arn {
                Some(Some(arn)) => by_default["kms_master_key_id"] = json!(arn),
                Some(None) => {
                    a.out.unknown.insert(
                        "rule".into(),
                        json!([{"apply_server_side_encryption_by_default":
                            [{"kms_master_key_id": true}]}]),
                    );
                }
                None => by_default["kms_master_key_id"] = json!(""),
            }
            a.set(
                "rule",
                json!([{"apply_server_side_encryption_by_default": [by_default],
                        "bucket_key_enabled": true}]),
            );
        }
        ("aws_s3_bucket_versioning", name) => {
            let bucket = format!("acme-{key}-{name}");
            a.computed("bucket", json!(bucket));
            a.computed("id", json!(bucket));
            a.set("expected_bucket_owner", json!(""));
            a.set("mfa", Value::Null);
            a.set(
                "versioning_configuration",
                json!([{"status": "Enabled", "mfa_delete": "Disabled"}]),
            );
        }
        ("aws_s3_bucket_public_access_block", name) => {
            let bucket = format!("acme-{key}-{name}");
            a.computed("bucket", json!(bucket));
            a.computed("id", json!(bucket));
            for setting in [
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            ] {
                a.set(setting, json!(true));
            }
        }
        ("aws_ebs_volume", _) => {
            let encrypted = t.is_none_or(|t| t.volumes_encrypted);
            a.set("availability_zone", json!(format!("{region}a")));
            a.set("size", json!(100 * (1 + slot.index.unwrap_or(0))));
            a.set("type", json!("gp3"));
            a.set("encrypted", json!(encrypted));
            a.set("final_snapshot", json!(false));
            a.set("multi_attach_enabled", json!(false));
            a.set("outpost_arn", Value::Null);
            a.set("snapshot_id", Value::Null);
            a.set("timeouts", Value::Null);
            if encrypted {
                match a.tenant_key_arn() {
                    Some(arn) => a.set("kms_key_id", json!(arn)),
                    None => {
                        a.out.unknown.insert("kms_key_id".into(), json!(true));
                    }
                }
            } else {
                a.set("kms_key_id", json!(""));
            }
            a.computed("id", json!(format!("vol-{id}")));
            let arn = a.arn("ec2", &format!("volume/vol-{id}"));
            a.computed("arn", json!(arn));
            a.computed("iops", json!(3000));
            a.computed("throughput", json!(125));
            a.tags(&format!("{key}-data"));
        }
        ("aws_db_parameter_group", _) => {
            let force_ssl = t.is_none_or(|t| t.db_forces_ssl);
            a.set("name", json!(format!("{key}-postgres16")));
            a.set("family", json!("postgres16"));
            a.set("description", json!("Managed by Terraform"));
            a.set("skip_destroy", json!(false));
            a.set(
                "parameter",
                json!([
                    {"apply_method": "pending-reboot", "name": "rds.force_ssl",
                     "value": if force_ssl { "1" } else { "0" }},
                    {"apply_method": "immediate", "name": "log_min_duration_statement",
                     "value": "1000"},
                ]),
            );
            a.computed("id", json!(format!("{key}-postgres16")));
            let arn = a.arn("rds", &format!("pg:{key}-postgres16"));
            a.computed("arn", json!(arn));
            a.tags(&format!("{key}-postgres16"));
        }
        ("aws_db_instance", _) => {
            let encrypted = t.is_none_or(|t| t.db_encrypted);
            a.set("identifier", json!(format!("{key}-records")));
            a.set("engine", json!("postgres"));
            a.set("engine_version", json!("16.3"));
            a.set("instance_class", json!("db.r6g.large"));
            a.set("allocated_storage", json!(200));
            a.set("storage_type", json!("gp3"));
            a.set("storage_encrypted", json!(encrypted));
            a.set("username", json!("records_admin"));
            let password = format!("{}-{}", a.rng.hex(12), a.rng.hex(12));
            a.secret("password", json!(password));
            a.set("multi_az", json!(true));
            a.set("publicly_accessible", json!(false));
            a.set("backup_retention_period", json!(35));
            a.set("deletion_protection", json!(true));
            a.set("iam_database_authentication_enabled", json!(true));
            a.set("parameter_group_name", json!(format!("{key}-postgres16")));
            a.set("ca_cert_identifier", json!("rds-ca-rsa2048-g1"));
            a.set("skip_final_snapshot", json!(false));
            a.set("timeouts", Value::Null);
            if encrypted {
                match a.tenant_key_arn() {
                    Some(arn) => a.set("kms_key_id", json!(arn)),
                    None => {
                        a.out.unknown.insert("kms_key_id".into(), json!(true));
                    }
                }
            }
            a.computed("id", json!(format!("db-{}", id.to_uppercase())));
            let arn = a.arn("rds", &format!("db:{key}-records"));
            a.computed("arn", json!(arn));
            a.computed(
                "endpoint",
                json!(format!(
                    "{key}-records.c{id}.{region}.rds.amazonaws.com:5432"
                )),
            );
            a.computed(
                "address",
                json!(format!("{key}-records.c{id}.{region}.rds.amazonaws.com")),
            );
            a.computed("port", json!(5432));
            a.computed("resource_id", json!(format!("db-{}", id.to_uppercase())));
            a.tags(&format!("{key}-records"));
        }
        ("aws_rds_cluster", _) => {
            let encrypted = t.is_none_or(|t| t.db_encrypted);
            a.set("cluster_identifier", json!(format!("{key}-analytics")));
            a.set("engine", json!("aurora-postgresql"));
            a.set("engine_version", json!("16.2"));
            a.set("database_name", json!("analytics"));
            a.set("master_username", json!("analytics_admin"));
            let password = a.rng.hex(24);
            a.secret("master_password", json!(password));
            a.set("storage_encrypted", json!(encrypted));
            a.set("backup_retention_period", json!(14));
            a.set("deletion_protection", json!(true));
            a.set("skip_final_snapshot", json!(false));
            if encrypted {
                match a.tenant_key_arn() {
                    Some(arn) => a.set("kms_key_id", json!(arn)),
                    None => {
                        a.out.unknown.insert("kms_key_id".into(), json!(true));
                    }
                }
            }
            a.computed("id", json!(format!("{key}-analytics")));
            let arn = a.arn("rds", &format!("cluster:{key}-analytics"));
            a.computed("arn", json!(arn));
            a.computed(
                "endpoint",
                json!(format!(
                    "{key}-analytics.cluster-c{id}.{region}.rds.amazonaws.com"
                )),
            );
            a.tags(&format!("{key}-analytics"));
        }
        ("aws_lb", _) => {
            a.set("name", json!(format!("{key}-app")));
            a.set("internal", json!(false));
            a.set("load_balancer_type", json!("application"));
            a.set("drop_invalid_header_fields", json!(true));
            a.set("enable_deletion_protection", json!(true));
            a.set("idle_timeout", json!(60));
            a.set("ip_address_type", json!("ipv4"));
            a.set(
                "access_logs",
                json!([{"bucket": format!("acme-{key}-archive"), "enabled": true,
                        "prefix": "alb"}]),
            );
            let arn = a.arn(
                "elasticloadbalancing",
                &format!("loadbalancer/app/{key}-app/{id}"),
            );
            a.computed("arn", json!(arn));
            a.computed("id", json!(arn));
            a.computed(
                "dns_name",
                json!(format!("{key}-app-{id}.{region}.elb.amazonaws.com")),
            );
            a.computed("zone_id", json!("Z35SXDOTRQ7X7K"));
            a.tags(&format!("{key}-app"));
        }
        ("aws_lb_listener", _) => {
            let listener = t.map_or(crate::ListenerTls::Modern, |t| t.listener);
            let lb = a.arn(
                "elasticloadbalancing",
                &format!("loadbalancer/app/{key}-app/{id}"),
            );
            a.computed("load_balancer_arn", json!(lb));
            match listener.ssl_policy() {
                Some(policy) => {
                    a.set("port", json!(443));
                    a.set("protocol", json!("HTTPS"));
                    a.set("ssl_policy", json!(policy));
                    let certificate = format!("certificate/{}", a.rng.uuid());
                    let certificate = a.arn("acm", &certificate);
                    a.set("certificate_arn", json!(certificate));
                }
                None => {
                    a.set("port", json!(80));
                    a.set("protocol", json!("HTTP"));
                    a.set("ssl_policy", json!(""));
                    a.set("certificate_arn", Value::Null);
                }
            }
            a.set("alpn_policy", Value::Null);
            a.set(
                "default_action",
                json!([{"type": "forward", "order": 1, "redirect": [], "fixed_response": [],
                        "target_group_arn": format!("arn:aws:elasticloadbalancing:{region}:\
                                                     {ACCOUNT}:targetgroup/{key}/{id}")}]),
            );
            let arn = a.arn(
                "elasticloadbalancing",
                &format!("listener/app/{key}-app/{id}/1"),
            );
            a.computed("arn", json!(arn));
            a.computed("id", json!(arn));
            a.tags(&format!("{key}-front"));
        }
        ("aws_cloudfront_distribution", _) => {
            let modern = t.is_none_or(|t| t.cdn_modern_tls);
            a.set("enabled", json!(true));
            a.set("is_ipv6_enabled", json!(true));
            a.set("comment", json!(format!("{key} patient portal")));
            a.set("default_root_object", json!("index.html"));
            a.set("price_class", json!("PriceClass_100"));
            a.set("aliases", json!([format!("portal.{key}.example.org")]));
            a.set(
                "origin",
                json!([{"domain_name": format!("{key}-app.{region}.elb.amazonaws.com"),
                        "origin_id": "app", "connection_attempts": 3, "connection_timeout": 10,
                        "custom_origin_config": [{"http_port": 80, "https_port": 443,
                            "origin_protocol_policy": "https-only",
                            "origin_ssl_protocols": if modern { json!(["TLSv1.2"]) }
                                else { json!(["TLSv1", "TLSv1.1", "TLSv1.2"]) }}]}]),
            );
            a.set(
                "default_cache_behavior",
                json!([{"allowed_methods": ["GET", "HEAD", "OPTIONS"],
                        "cached_methods": ["GET", "HEAD"], "target_origin_id": "app",
                        "viewer_protocol_policy":
                            if modern { "redirect-to-https" } else { "allow-all" },
                        "compress": true, "min_ttl": 0, "default_ttl": 3600,
                        "max_ttl": 86400}]),
            );
            let certificate = a.rng.uuid();
            a.set(
                "viewer_certificate",
                json!([{"acm_certificate_arn": format!(
                            "arn:aws:acm:us-east-1:{ACCOUNT}:certificate/{certificate}"),
                        "cloudfront_default_certificate": false,
                        "minimum_protocol_version": if modern { "TLSv1.2_2021" } else { "TLSv1" },
                        "ssl_support_method": "sni-only"}]),
            );
            a.set(
                "restrictions",
                json!([{"geo_restriction": [{"restriction_type": "none", "locations": []}]}]),
            );
            a.computed("id", json!(format!("E{}", id.to_uppercase())));
            a.computed(
                "arn",
                json!(format!(
                    "arn:aws:cloudfront::{ACCOUNT}:distribution/E{}",
                    id.to_uppercase()
                )),
            );
            a.computed("domain_name", json!(format!("d{id}.cloudfront.net")));
            let etag = a.rng.hex(14).to_uppercase();
            a.computed("etag", json!(etag));
            a.tags(&format!("{key}-portal"));
        }
        ("aws_dynamodb_table", _) => {
            let uses_cmk = t.is_none_or(|t| t.table_uses_cmk);
            a.set("name", json!(format!("{key}-sessions")));
            a.set("billing_mode", json!("PAY_PER_REQUEST"));
            a.set("hash_key", json!("session_id"));
            a.set("attribute", json!([{"name": "session_id", "type": "S"}]));
            a.set("point_in_time_recovery", json!([{"enabled": true}]));
            a.set(
                "ttl",
                json!([{"attribute_name": "expires_at", "enabled": true}]),
            );
            a.set("deletion_protection_enabled", json!(true));
            if uses_cmk {
                let arn = a.platform_key_arn();
                a.set(
                    "server_side_encryption",
                    json!([{"enabled": true, "kms_key_arn": arn}]),
                );
            } else {
                a.set("server_side_encryption", json!([]));
            }
            a.computed("id", json!(format!("{key}-sessions")));
            let arn = a.arn("dynamodb", &format!("table/{key}-sessions"));
            a.computed("arn", json!(arn));
            a.computed("stream_arn", json!(""));
            a.tags(&format!("{key}-sessions"));
        }
        ("aws_sqs_queue", _) => {
            let encrypted = t.is_none_or(|t| t.queue_encrypted);
            a.set("name", json!(format!("{key}-events")));
            a.set("delay_seconds", json!(0));
            a.set("max_message_size", json!(262_144));
            a.set("message_retention_seconds", json!(345_600));
            a.set("visibility_timeout_seconds", json!(60));
            a.set("fifo_queue", json!(false));
            a.set("sqs_managed_sse_enabled", json!(encrypted));
            a.set("kms_master_key_id", Value::Null);
            let url = format!("https://sqs.{region}.amazonaws.com/{ACCOUNT}/{key}-events");
            a.computed("id", json!(url));
            a.computed("url", json!(url));
            let arn = a.arn("sqs", &format!("{key}-events"));
            a.computed("arn", json!(arn));
            a.tags(&format!("{key}-events"));
        }
        ("aws_sns_topic", _) => {
            let encrypted = t.is_none_or(|t| t.topic_encrypted);
            a.set("name", json!(format!("{key}-alerts")));
            a.set("fifo_topic", json!(false));
            if encrypted {
                match a.tenant_key_arn() {
                    Some(arn) => a.set("kms_master_key_id", json!(arn)),
                    None => {
                        a.out
                            .unknown
                            .insert("kms_master_key_id".into(), json!(true));
                    }
                }
            } else {
                a.set("kms_master_key_id", json!(""));
            }
            let arn = a.arn("sns", &format!("{key}-alerts"));
            a.computed("id", json!(arn));
            a.computed("arn", json!(arn));
            a.computed("owner", json!(ACCOUNT));
            a.tags(&format!("{key}-alerts"));
        }
        ("aws_efs_file_system", _) => {
            let encrypted = t.is_none_or(|t| t.files_encrypted);
            a.set("creation_token", json!(format!("{key}-shared")));
            a.set("encrypted", json!(encrypted));
            a.set("performance_mode", json!("generalPurpose"));
            a.set("throughput_mode", json!("elastic"));
            a.set(
                "lifecycle_policy",
                json!([{"transition_to_ia": "AFTER_30_DAYS"}]),
            );
            if encrypted {
                match a.tenant_key_arn() {
                    Some(arn) => a.set("kms_key_id", json!(arn)),
                    None => {
                        a.out.unknown.insert("kms_key_id".into(), json!(true));
                    }
                }
            }
            a.computed("id", json!(format!("fs-{id}")));
            let arn = a.arn("elasticfilesystem", &format!("file-system/fs-{id}"));
            a.computed("arn", json!(arn));
            a.computed(
                "dns_name",
                json!(format!("fs-{id}.efs.{region}.amazonaws.com")),
            );
            a.tags(&format!("{key}-shared"));
        }
        ("aws_elasticache_replication_group", _) => {
            let in_transit = t.is_none_or(|t| t.cache_in_transit);
            a.set("replication_group_id", json!(format!("{key}-cache")));
            a.set("description", json!("session cache"));
            a.set("engine", json!("redis"));
            a.set("engine_version", json!("7.1"));
            a.set("node_type", json!("cache.r7g.large"));
            a.set("num_cache_clusters", json!(2));
            a.set("automatic_failover_enabled", json!(true));
            a.set("at_rest_encryption_enabled", json!(true));
            a.set("transit_encryption_enabled", json!(in_transit));
            if in_transit {
                let token = a.rng.hex(32);
                a.secret("auth_token", json!(token));
            }
            a.computed("id", json!(format!("{key}-cache")));
            let arn = a.arn("elasticache", &format!("replicationgroup:{key}-cache"));
            a.computed("arn", json!(arn));
            a.computed(
                "primary_endpoint_address",
                json!(format!("master.{key}-cache.{id}.use1.cache.amazonaws.com")),
            );
            a.tags(&format!("{key}-cache"));
        }
        ("aws_security_group", _) => {
            a.set("name", json!(format!("{key}-app")));
            a.set("description", json!("application tier"));
            a.set("revoke_rules_on_delete", json!(false));
            let rule = |port: u16, cidr: &str| {
                json!({"from_port": port, "to_port": port, "protocol": "tcp",
                       "cidr_blocks": [cidr], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
                       "security_groups": [], "self": false, "description": ""})
            };
            a.set(
                "ingress",
                json!([rule(443, "0.0.0.0/0"), rule(5432, "10.0.0.0/8")]),
            );
            a.set("egress", json!([rule(443, "0.0.0.0/0")]));
            a.computed("id", json!(format!("sg-{id}")));
            let arn = a.arn("ec2", &format!("security-group/sg-{id}"));
            a.computed("arn", json!(arn));
            a.computed("vpc_id", json!(format!("vpc-{}", &id[..8])));
            a.tags(&format!("{key}-app"));
        }
        ("aws_iam_role", _) => {
            a.set("name", json!(format!("{key}-app")));
            a.set("path", json!("/"));
            a.set("max_session_duration", json!(3600));
            a.set("force_detach_policies", json!(false));
            a.set(
                "assume_role_policy",
                json!(
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\
                       \"Principal\":{\"Service\":\"ecs-tasks.amazonaws.com\"},\
                       \"Action\":\"sts:AssumeRole\"}]}"
                ),
            );
            a.computed("id", json!(format!("{key}-app")));
            a.computed(
                "arn",
                json!(format!("arn:aws:iam::{ACCOUNT}:role/{key}-app")),
            );
            a.computed("unique_id", json!(format!("AROA{}", id.to_uppercase())));
            a.tags(&format!("{key}-app"));
        }
        ("aws_cloudwatch_log_group", name) => {
            let encrypted = t.is_none_or(|t| t.logs_encrypted);
            a.set("name", json!(format!("/acme/{key}/{name}")));
            a.set("retention_in_days", json!(2192));
            a.set("log_group_class", json!("STANDARD"));
            a.set("skip_destroy", json!(false));
            match (name, encrypted) {
                ("audit", _) => {
                    let arn = a.platform_key_arn();
                    a.set("kms_key_id", json!(arn));
                }
                (_, true) => match a.tenant_key_arn() {
                    Some(arn) => a.set("kms_key_id", json!(arn)),
                    None => {
                        a.out.unknown.insert("kms_key_id".into(), json!(true));
                    }
                },
                (_, false) => a.set("kms_key_id", json!("")),
            }
            a.computed("id", json!(format!("/acme/{key}/{name}")));
            let arn = a.arn("logs", &format!("log-group:/acme/{key}/{name}"));
            a.computed("arn", json!(arn));
            a.tags(&format!("{key}-{name}"));
        }
        ("aws_caller_identity", _) => {
            a.set("account_id", json!(ACCOUNT));
            a.set(
                "arn",
                json!(format!("arn:aws:iam::{ACCOUNT}:role/terraform")),
            );
            a.set("id", json!(ACCOUNT));
            a.set("user_id", json!(format!("AROA{}", id.to_uppercase())));
        }
        ("aws_region", _) => {
            a.set("name", json!("us-east-1"));
            a.set("id", json!("us-east-1"));
            a.set("description", json!("US East (N. Virginia)"));
            a.set("endpoint", json!("ec2.us-east-1.amazonaws.com"));
        }
        ("aws_iam_policy_document", _) => {
            let document = format!(
                "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\
                 \"Principal\":{{\"AWS\":\"arn:aws:iam::{ACCOUNT}:root\"}},\
                 \"Action\":\"kms:*\",\"Resource\":\"*\"}}]}}"
            );
            a.set("json", json!(document));
            a.set("minified_json", json!(document));
            a.set("id", json!(hash(&document).to_string()));
            a.set(
                "statement",
                json!([{"effect": "Allow", "actions": ["kms:*"], "resources": ["*"],
                        "principals": [{
                            "type": "AWS",
                            "identifiers": [format!("arn:aws:iam::{ACCOUNT}:root")]}]}]),
            );
        }
        (other, name) => {
            a.set("name", json!(format!("{key}-{other}-{name}")));
            a.computed("id", json!(id));
        }
    }
}

/// The configuration expressions of a block, as Terraform lists them.
fn expressions(kind: &Kind) -> Value {
    let refs = |list: &[&str]| json!({ "references": list });
    let constant = |value: Value| json!({ "constant_value": value });
    let tenant_key = || refs(&["aws_kms_key.tenant.arn", "aws_kms_key.tenant"]);
    let tags = || refs(&["local.tags", "var.tenant"]);

    match (kind.place, kind.resource_type, kind.name) {
        (Place::Root, "aws_kms_key", name) => json!({
            "description": constant(json!(format!("{name} data key"))),
            "enable_key_rotation": constant(json!(name != "audit")),
            "policy": refs(&["data.aws_iam_policy_document.platform_key.json",
                             "data.aws_iam_policy_document.platform_key"]),
        }),
        (Place::Root, "aws_kms_alias", _) => json!({
            "name": constant(json!("alias/platform")),
            "target_key_id": refs(&["aws_kms_key.platform.key_id", "aws_kms_key.platform"]),
        }),
        (Place::Root, "aws_cloudwatch_log_group", _) => json!({
            "name": constant(json!("/acme/platform/audit")),
            "kms_key_id": refs(&["aws_kms_key.platform.arn", "aws_kms_key.platform"]),
        }),
        (Place::Root, "aws_s3_bucket", _) => json!({
            "bucket": constant(json!("acme-platform-audit")),
        }),
        (Place::Root, "aws_s3_bucket_server_side_encryption_configuration", _) => json!({
            "bucket": refs(&["aws_s3_bucket.audit.id", "aws_s3_bucket.audit"]),
            "rule": [{"apply_server_side_encryption_by_default": [{
                "kms_master_key_id": refs(&["aws_kms_key.platform.arn", "aws_kms_key.platform"]),
                "sse_algorithm": constant(json!("aws:kms")),
            }], "bucket_key_enabled": constant(json!(true))}],
        }),
        (Place::Root, "aws_s3_bucket_versioning", _) => json!({
            "bucket": refs(&["aws_s3_bucket.audit.id", "aws_s3_bucket.audit"]),
            "versioning_configuration": [{"status": constant(json!("Enabled"))}],
        }),
        (Place::Root, "aws_iam_policy_document", _) => json!({
            "statement": [{
                "actions": constant(json!(["kms:*"])),
                "resources": constant(json!(["*"])),
                "principals": [{
                    "type": constant(json!("AWS")),
                    "identifiers": refs(&["data.aws_caller_identity.current.account_id",
                                          "data.aws_caller_identity.current"]),
                }],
            }],
        }),
        (_, "aws_kms_key", _) => json!({
            "description": refs(&["var.tenant"]),
            "enable_key_rotation": refs(&["var.settings.key_rotation", "var.settings"]),
            "deletion_window_in_days": constant(json!(30)),
            "tags": tags(),
        }),
        (_, "aws_kms_alias", _) => json!({
            "name": refs(&["var.tenant"]),
            "target_key_id": refs(&["aws_kms_key.tenant.key_id", "aws_kms_key.tenant"]),
        }),
        (Place::Logging, "aws_s3_bucket", _) => json!({
            "bucket": refs(&["var.tenant"]),
            "tags": refs(&["var.tags"]),
        }),
        (_, "aws_s3_bucket", _) => json!({
            "bucket": refs(&["var.tenant"]),
            "force_destroy": constant(json!(false)),
            "tags": tags(),
        }),
        (_, "aws_s3_bucket_server_side_encryption_configuration", _) => json!({
            "bucket": refs(&["aws_s3_bucket.phi.id", "aws_s3_bucket.phi"]),
            "rule": [{"apply_server_side_encryption_by_default": [{
                "kms_master_key_id": refs(&["var.settings.bucket_uses_kms", "var.settings",
                                            "aws_kms_key.tenant.arn", "aws_kms_key.tenant"]),
                "sse_algorithm": refs(&["var.settings.bucket_uses_kms", "var.settings"]),
            }], "bucket_key_enabled": constant(json!(true))}],
        }),
        (_, "aws_s3_bucket_versioning", _) => json!({
            "bucket": refs(&["aws_s3_bucket.phi.id", "aws_s3_bucket.phi"]),
            "versioning_configuration": [{"status": constant(json!("Enabled"))}],
        }),
        (_, "aws_s3_bucket_public_access_block", _) => json!({
            "bucket": refs(&["aws_s3_bucket.phi.id", "aws_s3_bucket.phi"]),
            "block_public_acls": constant(json!(true)),
            "block_public_policy": constant(json!(true)),
            "ignore_public_acls": constant(json!(true)),
            "restrict_public_buckets": constant(json!(true)),
        }),
        (_, "aws_ebs_volume", _) => json!({
            "availability_zone": refs(&["var.availability_zone"]),
            "size": refs(&["count.index"]),
            "type": constant(json!("gp3")),
            "encrypted": refs(&["var.settings.volumes_encrypted", "var.settings"]),
            "kms_key_id": tenant_key(),
            "tags": tags(),
        }),
        (_, "aws_db_parameter_group", _) => json!({
            "name": refs(&["var.tenant"]),
            "family": constant(json!("postgres16")),
            "parameter": [
                {"name": constant(json!("rds.force_ssl")),
                 "value": refs(&["var.settings.db_forces_ssl", "var.settings"]),
                 "apply_method": constant(json!("pending-reboot"))},
                {"name": constant(json!("log_min_duration_statement")),
                 "value": constant(json!("1000"))},
            ],
        }),
        (_, "aws_db_instance", _) => json!({
            "identifier": refs(&["var.tenant"]),
            "engine": constant(json!("postgres")),
            "instance_class": constant(json!("db.r6g.large")),
            "storage_encrypted": refs(&["var.settings.db_encrypted", "var.settings"]),
            "kms_key_id": tenant_key(),
            "username": constant(json!("records_admin")),
            "password": refs(&["var.db_password"]),
            "parameter_group_name": refs(&["aws_db_parameter_group.main.name",
                                           "aws_db_parameter_group.main"]),
            "tags": tags(),
        }),
        (_, "aws_rds_cluster", _) => json!({
            "cluster_identifier": refs(&["var.tenant"]),
            "engine": constant(json!("aurora-postgresql")),
            "storage_encrypted": refs(&["var.settings.db_encrypted", "var.settings"]),
            "kms_key_id": tenant_key(),
            "master_password": refs(&["var.db_password"]),
        }),
        (_, "aws_lb", _) => json!({
            "name": refs(&["var.tenant"]),
            "load_balancer_type": constant(json!("application")),
            "access_logs": [{
                "bucket": refs(&["module.logging.archive_bucket", "module.logging"]),
                "enabled": constant(json!(true)),
            }],
        }),
        (_, "aws_lb_listener", _) => json!({
            "load_balancer_arn": refs(&["aws_lb.app.arn", "aws_lb.app"]),
            "port": refs(&["local.listener_port"]),
            "protocol": refs(&["local.listener_protocol"]),
            "ssl_policy": refs(&["var.settings.ssl_policy", "var.settings"]),
            "certificate_arn": refs(&["var.certificate_arn"]),
            "default_action": [{"type": constant(json!("forward")),
                                "target_group_arn": refs(&["var.target_group_arn"])}],
        }),
        (_, "aws_cloudfront_distribution", _) => json!({
            "enabled": constant(json!(true)),
            "origin": [{"domain_name": refs(&["aws_lb.app.dns_name", "aws_lb.app"]),
                        "origin_id": constant(json!("app"))}],
            "viewer_certificate": [{
                "minimum_protocol_version": refs(&["var.settings.cdn_tls", "var.settings"]),
                "acm_certificate_arn": refs(&["var.certificate_arn"]),
            }],
            "default_cache_behavior": [{
                "viewer_protocol_policy": refs(&["var.settings.viewer_policy", "var.settings"]),
                "target_origin_id": constant(json!("app")),
            }],
        }),
        (_, "aws_dynamodb_table", _) => json!({
            "name": refs(&["var.tenant"]),
            "hash_key": constant(json!("session_id")),
            "server_side_encryption": [{
                "enabled": constant(json!(true)),
                "kms_key_arn": refs(&["var.platform_key_arn"]),
            }],
        }),
        (_, "aws_sqs_queue", _) => json!({
            "name": refs(&["var.tenant"]),
            "sqs_managed_sse_enabled": refs(&["var.settings.queue_encrypted", "var.settings"]),
        }),
        (_, "aws_sns_topic", _) => json!({
            "name": refs(&["var.tenant"]),
            "kms_master_key_id": refs(&["var.settings.topic_encrypted", "var.settings",
                                        "aws_kms_key.tenant.arn", "aws_kms_key.tenant"]),
        }),
        (_, "aws_efs_file_system", _) => json!({
            "creation_token": refs(&["var.tenant"]),
            "encrypted": refs(&["var.settings.files_encrypted", "var.settings"]),
            "kms_key_id": tenant_key(),
        }),
        (_, "aws_elasticache_replication_group", _) => json!({
            "replication_group_id": refs(&["var.tenant"]),
            "at_rest_encryption_enabled": constant(json!(true)),
            "transit_encryption_enabled": refs(&["var.settings.cache_in_transit",
                                                 "var.settings"]),
            "auth_token": refs(&["random_password.cache.result", "random_password.cache"]),
        }),
        (_, "aws_security_group", _) => json!({
            "name": refs(&["var.tenant"]),
            "vpc_id": refs(&["var.vpc_id"]),
        }),
        (_, "aws_iam_role", _) => json!({
            "name": refs(&["var.tenant"]),
            "assume_role_policy": constant(json!("{}")),
        }),
        (Place::Logging, "aws_cloudwatch_log_group", _) => json!({
            "name": refs(&["var.tenant"]),
            "retention_in_days": constant(json!(2192)),
            "kms_key_id": refs(&["var.kms_key_arn"]),
        }),
        _ => json!({}),
    }
}

struct PlanWriter<'e, W: Write> {
    out: io::BufWriter<W>,
    estate: &'e Estate,
}

impl<W: Write> PlanWriter<'_, W> {
    fn raw(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn value(&mut self, value: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(io::Error::other)
    }

    fn write(&mut self) -> io::Result<()> {
        self.raw(&format!(
            "{{\"format_version\":\"1.2\",\"terraform_version\":\"{TERRAFORM_VERSION}\",\
             \"variables\":{{\"db_password\":{{\"value\":\"not-the-real-one\"}}}},\
             \"planned_values\":{{\"root_module\":"
        ))?;
        self.state_module(&self.estate.root, false)?;
        self.raw("},\"resource_changes\":[")?;
        let mut first = true;
        self.changes(&self.estate.root, &mut first)?;
        self.raw(&format!(
            "],\"prior_state\":{{\"format_version\":\"1.0\",\
             \"terraform_version\":\"{TERRAFORM_VERSION}\",\"values\":{{\"root_module\":"
        ))?;
        self.state_module(&self.estate.root, true)?;
        self.raw("}},\"configuration\":")?;
        self.configuration()?;
        self.raw(
            ",\"timestamp\":\"2026-11-30T10:00:00Z\",\"applyable\":true,\"complete\":true,\
             \"errored\":false}",
        )
    }

    /// A module of `planned_values` (after apply) or of `prior_state` (before it).
    fn state_module(&mut self, module: &ModuleInstance, prior: bool) -> io::Result<()> {
        self.raw("{")?;
        if !module.address.is_empty() {
            self.raw("\"address\":")?;
            self.value(&json!(module.address))?;
            self.raw(",")?;
        }
        self.raw("\"resources\":[")?;
        let mut first = true;
        for slot in &module.slots {
            let exists = match slot.action {
                Action::Create => !prior,
                Action::Delete | Action::ReadNow => prior,
                _ => true,
            };
            if !exists {
                continue;
            }
            let rendered = match (prior, slot.action) {
                (true, _) => self.estate.render(module, slot, true, true),
                (false, action) => self.after(module, slot, action),
            };
            if !first {
                self.raw(",")?;
            }
            first = false;
            self.resource_head(module, slot)?;
            self.raw(",\"schema_version\":0,\"values\":")?;
            self.value(&Value::Object(rendered.values))?;
            self.raw(",\"sensitive_values\":")?;
            self.value(&Value::Object(rendered.sensitive))?;
            self.raw("}")?;
        }
        self.raw("]")?;
        let children: Vec<&ModuleInstance> = module.children.iter().collect();
        if !children.is_empty() {
            self.raw(",\"child_modules\":[")?;
            for (i, child) in children.into_iter().enumerate() {
                if i > 0 {
                    self.raw(",")?;
                }
                self.state_module(child, prior)?;
            }
            self.raw("]")?;
        }
        self.raw("}")
    }

    fn after(&self, module: &ModuleInstance, slot: &Slot, action: Action) -> Rendered {
        let tenant_is_new = module.tenant.is_some_and(|i| self.estate.tenants[i].is_new);
        let computed_known = !matches!(action, Action::Create | Action::Replace);
        self.estate
            .render(module, slot, computed_known, !tenant_is_new)
    }

    /// `{"address":..,"mode":..,"type":..,"name":..[,"index":..],"provider_name":..` (open).
    fn resource_head(&mut self, module: &ModuleInstance, slot: &Slot) -> io::Result<()> {
        let kind = slot.kind;
        self.raw("{\"address\":")?;
        self.value(&json!(address(module, slot)))?;
        let mode = if kind.data { "data" } else { "managed" };
        self.raw(&format!(
            ",\"mode\":\"{mode}\",\"type\":\"{}\",\"name\":\"{}\"",
            kind.resource_type, kind.name
        ))?;
        if let Some(index) = slot.index {
            self.raw(&format!(",\"index\":{index}"))?;
        }
        self.raw(&format!(",\"provider_name\":\"{AWS}\""))
    }

    fn changes(&mut self, module: &ModuleInstance, first: &mut bool) -> io::Result<()> {
        for slot in &module.slots {
            if slot.action == Action::ReadNow {
                continue;
            }
            if !*first {
                self.raw(",")?;
            }
            *first = false;
            self.resource_head(module, slot)?;
            if !module.address.is_empty() {
                self.raw(",\"module_address\":")?;
                self.value(&json!(module.address))?;
            }
            self.raw(",\"change\":{\"actions\":")?;
            self.value(&json!(slot.action.names()))?;

            let before = match slot.action {
                Action::Create => None,
                _ => Some(self.estate.render(module, slot, true, true)),
            };
            self.raw(",\"before\":")?;
            match &before {
                Some(before) => {
                    let mut values = before.values.clone();
                    if slot.action == Action::Update {
                        if let Some(Value::Object(tags)) = values.get_mut("tags") {
                            tags.insert("Revision".into(), json!("2025-q4"));
                        }
                    }
                    self.value(&Value::Object(values))?
                }
                None => self.raw("null")?,
            }

            let after = match slot.action {
                Action::Delete => None,
                action => Some(self.after(module, slot, action)),
            };
            match after {
                Some(after) => {
                    self.raw(",\"after\":")?;
                    self.value(&Value::Object(after.values))?;
                    self.raw(",\"after_unknown\":")?;
                    self.value(&Value::Object(after.unknown))?;
                    self.raw(",\"before_sensitive\":")?;
                    match &before {
                        Some(before) => self.value(&Value::Object(before.sensitive.clone()))?,
                        None => self.raw("false")?,
                    }
                    self.raw(",\"after_sensitive\":")?;
                    self.value(&Value::Object(after.sensitive))?;
                }
                None => {
                    self.raw(",\"after\":null,\"after_unknown\":{},\"before_sensitive\":")?;
                    let sensitive = before.map(|b| b.sensitive).unwrap_or_default();
                    self.value(&Value::Object(sensitive))?;
                    self.raw(",\"after_sensitive\":false")?;
                }
            }
            self.raw("}")?;
            match slot.action {
                Action::Replace => {
                    self.raw(",\"action_reason\":\"replace_because_cannot_update\"")?
                }
                Action::Delete => {
                    self.raw(",\"action_reason\":\"delete_because_no_resource_config\"")?
                }
                _ => {}
            }
            self.raw("}")?;
        }
        for child in &module.children {
            self.changes(child, first)?;
        }
        Ok(())
    }

    fn configuration(&mut self) -> io::Result<()> {
        let estate = self.estate;
        let mut root_resources = Vec::new();
        for kind in KINDS.iter().filter(|k| k.place == Place::Root) {
            root_resources.push(config_resource(kind, "aws"));
        }

        let mut calls = Map::new();
        for group in 0..estate.groups {
            let provider = if group % 4 == 3 { "aws.dr" } else { "aws" };
            calls.insert(format!("tenants_{group}"), tenant_call(provider));
        }

        let configuration = json!({
            "provider_config": {
                "aws": {"name": "aws", "full_name": AWS, "version_constraint": "~> 5.80",
                        "expressions": {"region": {"constant_value": "us-east-1"}}},
                "aws.dr": {"name": "aws", "full_name": AWS, "alias": "dr",
                           "version_constraint": "~> 5.80",
                           "expressions": {"region": {"constant_value": "us-west-2"}}},
            },
            "root_module": {
                "outputs": {
                    "platform_key_arn": {"expression": {"references": [
                        "aws_kms_key.platform.arn", "aws_kms_key.platform"]}},
                    "first_tenant_bucket": {"expression": {"references": [
                        format!("module.tenants_0[\"{}\"].bucket_arn",
                                estate.tenants.first().map_or("", |t| t.key.as_str())),
                        format!("module.tenants_0[\"{}\"]",
                                estate.tenants.first().map_or("", |t| t.key.as_str())),
                        "module.tenants_0".to_string()]}},
                },
                "resources": root_resources,
                "module_calls": calls,
                "variables": {"db_password": {"sensitive": true}},
            },
        });
        self.value(&configuration)
    }
}

fn address(module: &ModuleInstance, slot: &Slot) -> String {
    let kind = slot.kind;
    let mut address = String::new();
    if !module.address.is_empty() {
        address.push_str(&module.address);
        address.push('.');
    }
    if kind.data {
        address.push_str("data.");
    }
    address.push_str(kind.resource_type);
    address.push('.');
    address.push_str(kind.name);
    if let Some(index) = slot.index {
        address.push_str(&format!("[{index}]"));
    }
    address
}

fn config_resource(kind: &Kind, provider: &str) -> Value {
    let prefix = if kind.data { "data." } else { "" };
    let mut resource = json!({
        "address": format!("{prefix}{}.{}", kind.resource_type, kind.name),
        "mode": if kind.data { "data" } else { "managed" },
        "type": kind.resource_type,
        "name": kind.name,
        "provider_config_key": provider,
        "expressions": expressions(kind),
        "schema_version": 0,
    });
    if kind.count.is_some() {
        resource["count_expression"] = json!({"references": ["var.settings", "local.count"]});
    }
    resource
}

/// One `module "tenants_N"` call with its whole module, as Terraform inlines it per call.
fn tenant_call(provider: &str) -> Value {
    let tenant_resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.place == Place::Tenant)
        .map(|kind| config_resource(kind, provider))
        .collect();
    let logging_resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.place == Place::Logging)
        .map(|kind| config_resource(kind, provider))
        .collect();
    json!({
        "source": "./modules/tenant",
        "expressions": {
            "tenant": {"references": ["each.key"]},
            "settings": {"references": ["each.value"]},
            "platform_key_arn": {"references": ["aws_kms_key.platform.arn",
                                                "aws_kms_key.platform"]},
            "db_password": {"references": ["var.db_password"]},
        },
        "for_each_expression": {"references": ["local.tenant_groups"]},
        "module": {
            "outputs": {
                "bucket_arn": {"expression": {"references": ["aws_s3_bucket.phi.arn",
                                                             "aws_s3_bucket.phi"]}},
                "key_arn": {"expression": {"references": ["aws_kms_key.tenant.arn",
                                                          "aws_kms_key.tenant"]}},
            },
            "resources": tenant_resources,
            "module_calls": {
                "logging": {
                    "source": "../logging",
                    "expressions": {
                        "tenant": {"references": ["var.tenant"]},
                        "kms_key_arn": {"references": ["var.settings.logs_encrypted",
                                                       "var.settings",
                                                       "aws_kms_key.tenant.arn",
                                                       "aws_kms_key.tenant"]},
                        "tags": {"references": ["local.tags"]},
                    },
                    "module": {
                        "outputs": {
                            "archive_bucket": {"expression": {"references": [
                                "aws_s3_bucket.archive.id", "aws_s3_bucket.archive"]}},
                        },
                        "resources": logging_resources,
                        "variables": {"tenant": {}, "kms_key_arn": {}, "tags": {}},
                    },
                },
            },
            "variables": {
                "tenant": {}, "settings": {}, "platform_key_arn": {},
                "db_password": {"sensitive": true},
                "availability_zone": {"default": "us-east-1a"},
            },
        },
    })
}
