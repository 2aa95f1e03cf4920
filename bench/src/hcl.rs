//! Terraform configuration trees of any size: a root module with providers, variables, locals
//! and shared keys, and one local module per group of tenants (as teams copy a module and let
//! it drift), each called with `for_each` and using `count`, `for_each` and `dynamic` blocks
//! inside, plus a logging module they all call.
//!
//! The tenants' settings live in locals of the root module, so that whether a resource is
//! compliant is known only by following `var.settings` through the module call, as in real
//! estates.

use crate::{ListenerTls, Tenant, TENANTS_PER_GROUP};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Resource instances one tenant's module instance expands to (a cluster for some tenants, an
/// encryption configuration for most).
const INSTANCES_PER_TENANT: usize = 23;
/// Resource instances of the root module, data sources included.
const ROOT_INSTANCES: usize = 10;

/// What a generated tree holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeStats {
    pub tenants: usize,
    pub modules: usize,
    pub files: usize,
    pub bytes: usize,
}

/// Writes a configuration tree under `dir` whose expansion has about `resources` instances.
pub fn write_tree(dir: &Path, resources: usize, seed: u64) -> io::Result<TreeStats> {
    let tenant_count = resources
        .saturating_sub(ROOT_INSTANCES)
        .div_ceil(INSTANCES_PER_TENANT);
    let tenants: Vec<Tenant> = (0..tenant_count).map(|n| Tenant::new(n, seed)).collect();
    let groups = tenant_count.div_ceil(TENANTS_PER_GROUP);

    let mut files: Vec<(String, String)> = vec![
        ("versions.tf".into(), VERSIONS.into()),
        ("providers.tf".into(), PROVIDERS.into()),
        ("variables.tf".into(), ROOT_VARIABLES.into()),
        ("main.tf".into(), ROOT_MAIN.into()),
        ("locals.tf".into(), locals(&tenants)),
        ("tenants.tf".into(), module_calls(groups)),
        ("outputs.tf".into(), ROOT_OUTPUTS.into()),
        ("modules/logging/main.tf".into(), LOGGING_MAIN.into()),
        (
            "modules/logging/variables.tf".into(),
            LOGGING_VARIABLES.into(),
        ),
        ("modules/logging/outputs.tf".into(), LOGGING_OUTPUTS.into()),
    ];
    for group in 0..groups {
        let module = format!("modules/tenant_{group}");
        let main = TENANT_MAIN.replace("@GROUP@", &group.to_string());
        files.push((format!("{module}/main.tf"), main));
        files.push((format!("{module}/variables.tf"), TENANT_VARIABLES.into()));
        files.push((format!("{module}/outputs.tf"), TENANT_OUTPUTS.into()));
    }

    let mut bytes = 0;
    for (name, text) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        bytes += text.len();
    }
    Ok(TreeStats {
        tenants: tenant_count,
        modules: groups + 1,
        files: files.len(),
        bytes,
    })
}

/// One map of tenant settings per group, the `for_each` of that group's module call.
fn locals(tenants: &[Tenant]) -> String {
    let mut out = String::from(
        "locals {\n  common_tags = {\n    Environment = \"production\"\n    \
         DataClass   = \"phi\"\n    ManagedBy   = \"terraform\"\n  }\n",
    );
    for (group, members) in tenants.chunks(TENANTS_PER_GROUP).enumerate() {
        let _ = writeln!(out, "\n  tenant_group_{group} = {{");
        for t in members {
            let (policy, protocol) = match t.listener {
                ListenerTls::Plain => ("", "HTTP"),
                other => (other.ssl_policy().unwrap_or_default(), "HTTPS"),
            };
            let _ = write!(
                out,
                "    \"{key}\" = {{\n      bucket_encrypted  = {}\n      \
                 bucket_uses_kms   = {}\n      volumes_encrypted = {}\n      \
                 db_encrypted      = {}\n      db_forces_ssl     = {}\n      \
                 key_rotation      = {}\n      listener_protocol = \"{protocol}\"\n      \
                 ssl_policy        = \"{policy}\"\n      cdn_tls           = \"{}\"\n      \
                 table_uses_cmk    = {}\n      queue_encrypted   = {}\n      \
                 topic_encrypted   = {}\n      logs_encrypted    = {}\n      \
                 files_encrypted   = {}\n      cache_in_transit  = {}\n      \
                 analytics_cluster = {}\n    }}\n",
                t.bucket_encrypted,
                t.bucket_uses_kms,
                t.volumes_encrypted,
                t.db_encrypted,
                t.db_forces_ssl,
                t.key_rotation,
                if t.cdn_modern_tls {
                    "TLSv1.2_2021"
                } else {
                    "TLSv1"
                },
                t.table_uses_cmk,
                t.queue_encrypted,
                t.topic_encrypted,
                t.logs_encrypted,
                t.files_encrypted,
                t.cache_in_transit,
                t.has_cluster,
                key = t.key,
            );
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

fn module_calls(groups: usize) -> String {
    let mut out = String::new();
    for group in 0..groups {
        let providers = if group % 4 == 3 {
            "\n  providers = {\n    aws = aws.dr\n  }\n"
        } else {
            ""
        };
        let _ = write!(
            out,
            "module \"tenants_{group}\" {{\n  source   = \"./modules/tenant_{group}\"\n  \
             for_each = local.tenant_group_{group}\n\n  tenant           = each.key\n  \
             settings         = each.value\n  platform_key_arn = aws_kms_key.platform.arn\n  \
             db_password      = var.db_password\n  tags             = local.common_tags\n\
             {providers}}}\n\n"
        );
    }
    out
}

const VERSIONS: &str = r#"terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}
"#;

const PROVIDERS: &str = r#"provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "dr"
  region = "us-west-2"
}
"#;

const ROOT_VARIABLES: &str = r#"variable "region" {
  type    = string
  default = "us-east-1"
}

variable "db_password" {
  type      = string
  sensitive = true
}
"#;

const ROOT_MAIN: &str = r#"data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_iam_policy_document" "platform_key" {
  statement {
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "platform" {
  description         = "platform data key"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.platform_key.json
}

resource "aws_kms_alias" "platform" {
  name          = "alias/platform"
  target_key_id = aws_kms_key.platform.key_id
}

resource "aws_kms_key" "audit" {
  description         = "audit data key"
  enable_key_rotation = false
}

resource "aws_cloudwatch_log_group" "audit" {
  name              = "/acme/platform/audit"
  retention_in_days = 2192
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_s3_bucket" "audit" {
  bucket = "acme-platform-audit"
  tags   = local.common_tags
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.platform.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "audit" {
  bucket = aws_s3_bucket.audit.id

  versioning_configuration {
    status = "Enabled"
  }
}
"#;

const ROOT_OUTPUTS: &str = r#"output "platform_key_arn" {
  value = aws_kms_key.platform.arn
}
"#;

const TENANT_VARIABLES: &str = r#"variable "tenant" {
  type = string
}

variable "settings" {
  type = object({
    bucket_encrypted  = bool
    bucket_uses_kms   = bool
    volumes_encrypted = bool
    db_encrypted      = bool
    db_forces_ssl     = bool
    key_rotation      = bool
    listener_protocol = string
    ssl_policy        = string
    cdn_tls           = string
    table_uses_cmk    = bool
    queue_encrypted   = bool
    topic_encrypted   = bool
    logs_encrypted    = bool
    files_encrypted   = bool
    cache_in_transit  = bool
    analytics_cluster = bool
  })
}

variable "platform_key_arn" {
  type = string
}

variable "db_password" {
  type      = string
  sensitive = true
}

variable "tags" {
  type    = map(string)
  default = {}
}
"#;

const TENANT_OUTPUTS: &str = r#"output "bucket_arn" {
  value = aws_s3_bucket.phi.arn
}

output "key_arn" {
  value = aws_kms_key.tenant.arn
}
"#;

/// The tenant module; `@GROUP@` is the group number, so that each copy differs a little.
const TENANT_MAIN: &str = r#"locals {
  name = "${var.tenant}-g@GROUP@"
  tags = merge(var.tags, { Tenant = var.tenant, Group = "@GROUP@" })

  volumes = {
    data    = 100
    scratch = 200
  }

  ingress_rules = [
    { port = 443, cidr = "0.0.0.0/0" },
    { port = 5432, cidr = "10.0.0.0/8" },
  ]

  kms_rule  = { algorithm = "aws:kms", key = aws_kms_key.tenant.arn }
  aes_rule  = { algorithm = "AES256", key = null }
  sse_rules = var.settings.bucket_uses_kms ? [local.kms_rule] : [local.aes_rule]
}

resource "aws_kms_key" "tenant" {
  description             = "${local.name} data key"
  enable_key_rotation     = var.settings.key_rotation
  deletion_window_in_days = 30
  tags                    = local.tags
}

resource "aws_kms_alias" "tenant" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.tenant.key_id
}

resource "aws_s3_bucket" "phi" {
  bucket        = "acme-${local.name}-phi"
  force_destroy = false
  tags          = local.tags
}

resource "aws_s3_bucket_server_side_encryption_configuration" "phi" {
  count  = var.settings.bucket_encrypted ? 1 : 0
  bucket = aws_s3_bucket.phi.id

  dynamic "rule" {
    for_each = local.sse_rules
    content {
      apply_server_side_encryption_by_default {
        sse_algorithm     = rule.value.algorithm
        kms_master_key_id = rule.value.key
      }
      bucket_key_enabled = true
    }
  }
}

resource "aws_s3_bucket_versioning" "phi" {
  bucket = aws_s3_bucket.phi.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "phi" {
  bucket                  = aws_s3_bucket.phi.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_ebs_volume" "data" {
  for_each          = local.volumes
  availability_zone = "us-east-1a"
  size              = each.value
  type              = "gp3"
  encrypted         = var.settings.volumes_encrypted
  kms_key_id        = var.settings.volumes_encrypted ? aws_kms_key.tenant.arn : null
  tags              = merge(local.tags, { Name = "${local.name}-${each.key}" })
}

resource "aws_db_parameter_group" "main" {
  name   = "${local.name}-postgres16"
  family = "postgres16"

  parameter {
    name         = "rds.force_ssl"
    value        = var.settings.db_forces_ssl ? "1" : "0"
    apply_method = "pending-reboot"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
}

resource "aws_db_instance" "main" {
  identifier           = "${local.name}-records"
  engine               = "postgres"
  engine_version       = "16.3"
  instance_class       = "db.r6g.large"
  allocated_storage    = 200
  storage_encrypted    = var.settings.db_encrypted
  kms_key_id           = var.settings.db_encrypted ? aws_kms_key.tenant.arn : null
  username             = "records_admin"
  password             = var.db_password
  parameter_group_name = aws_db_parameter_group.main.name
  multi_az             = true
  publicly_accessible  = false
  deletion_protection  = true
  tags                 = local.tags
}

resource "aws_rds_cluster" "analytics" {
  count              = var.settings.analytics_cluster ? 1 : 0
  cluster_identifier = "${local.name}-analytics"
  engine             = "aurora-postgresql"
  master_username    = "analytics_admin"
  master_password    = var.db_password
  storage_encrypted  = var.settings.db_encrypted
  kms_key_id         = var.settings.db_encrypted ? aws_kms_key.tenant.arn : null
}

resource "aws_lb" "app" {
  name               = "${local.name}-app"
  load_balancer_type = "application"

  access_logs {
    bucket  = module.logging.archive_bucket
    enabled = true
  }
}

resource "aws_lb_listener" "front" {
  load_balancer_arn = aws_lb.app.arn
  port              = var.settings.listener_protocol == "HTTPS" ? 443 : 80
  protocol          = var.settings.listener_protocol
  ssl_policy        = var.settings.ssl_policy != "" ? var.settings.ssl_policy : null

  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1"
  }
}

resource "aws_cloudfront_distribution" "portal" {
  enabled = true

  origin {
    domain_name = aws_lb.app.dns_name
    origin_id   = "app"
  }

  default_cache_behavior {
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    target_origin_id       = "app"
    viewer_protocol_policy = var.settings.cdn_tls == "TLSv1" ? "allow-all" : "redirect-to-https"
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = "arn:aws:acm:us-east-1:123456789012:certificate/portal"
    minimum_protocol_version = var.settings.cdn_tls
    ssl_support_method       = "sni-only"
  }
}

resource "aws_dynamodb_table" "sessions" {
  name         = "${local.name}-sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "session_id"

  attribute {
    name = "session_id"
    type = "S"
  }

  dynamic "server_side_encryption" {
    for_each = var.settings.table_uses_cmk ? [var.platform_key_arn] : []
    content {
      enabled     = true
      kms_key_arn = server_side_encryption.value
    }
  }
}

resource "aws_sqs_queue" "events" {
  name                    = "${local.name}-events"
  sqs_managed_sse_enabled = var.settings.queue_encrypted
}

resource "aws_sns_topic" "alerts" {
  name              = "${local.name}-alerts"
  kms_master_key_id = var.settings.topic_encrypted ? aws_kms_key.tenant.arn : null
}

resource "aws_efs_file_system" "shared" {
  creation_token = "${local.name}-shared"
  encrypted      = var.settings.files_encrypted
  kms_key_id     = var.settings.files_encrypted ? aws_kms_key.tenant.arn : null
}

resource "aws_elasticache_replication_group" "cache" {
  replication_group_id       = "${local.name}-cache"
  description                = "session cache"
  engine                     = "redis"
  node_type                  = "cache.r7g.large"
  num_cache_clusters         = 2
  at_rest_encryption_enabled = true
  transit_encryption_enabled = var.settings.cache_in_transit
}

resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "application tier"

  dynamic "ingress" {
    for_each = local.ingress_rules
    content {
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = [ingress.value.cidr]
    }
  }
}

resource "aws_iam_role" "app" {
  name = "${local.name}-app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

module "logging" {
  source      = "../logging"
  tenant      = local.name
  kms_key_arn = var.settings.logs_encrypted ? aws_kms_key.tenant.arn : null
  tags        = local.tags
}
"#;

const LOGGING_MAIN: &str = r#"resource "aws_cloudwatch_log_group" "this" {
  name              = "/acme/${var.tenant}/app"
  retention_in_days = 2192
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_s3_bucket" "archive" {
  bucket = "acme-${var.tenant}-archive"
  tags   = var.tags
}
"#;

const LOGGING_VARIABLES: &str = r#"variable "tenant" {
  type = string
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}
"#;

const LOGGING_OUTPUTS: &str = r#"output "archive_bucket" {
  value = aws_s3_bucket.archive.id
}
"#;
