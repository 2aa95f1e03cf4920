# A stack as it often looks before a HIPAA review: `hipaa scan` finds what must change.

provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}

resource "hipaa_license" "clinic" {
  name                  = "northwind-clinic-phi"
  version               = "2026.2"
  customer_managed_keys = true
  key_rotation_days     = 180
}

resource "hipaa_boundary" "production" {
  license_id = hipaa_license.clinic.id
  name       = "production PHI"
  regions    = ["us-east-1"]
  members = [
    aws_s3_bucket.scans.arn,
    aws_db_instance.billing.arn,
    aws_db_instance.reporting_eu.arn,
  ]
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = "not-a-real-password-Zq81"
}

# Rotation never switched on.
resource "aws_kms_key" "scans" {
  description = "radiology scans"
}

resource "aws_s3_bucket" "scans" {
  bucket = "northwind-radiology-scans"
}

# AES256 means keys managed by AWS, which this license does not allow.
resource "aws_s3_bucket_server_side_encryption_configuration" "scans" {
  bucket = aws_s3_bucket.scans.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Scans are copied to an analytics bucket nobody declared inside the boundary.
resource "aws_s3_bucket" "analytics" {
  bucket = "northwind-analytics-scratch"
}

resource "aws_s3_bucket_replication_configuration" "scans" {
  bucket = aws_s3_bucket.scans.id
  role   = "arn:aws:iam::111122223333:role/replication"
  rule {
    id     = "to-analytics"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.analytics.arn
    }
  }
}

resource "aws_db_instance" "billing" {
  identifier        = "billing"
  engine            = "mysql"
  instance_class    = "db.t4g.medium"
  allocated_storage = 20
  username          = "billing"
  password          = var.db_password
}

# A reporting copy in a region the boundary does not allow.
resource "aws_db_instance" "reporting_eu" {
  provider                    = aws.eu
  identifier                  = "reporting"
  engine                      = "postgres"
  instance_class              = "db.t4g.medium"
  allocated_storage           = 20
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.scans.arn
  username                    = "reporting"
  manage_master_user_password = true
}

resource "aws_ebs_volume" "pacs" {
  availability_zone = "us-east-1a"
  size              = 500
}

# Accepted, with the reason on record: `hipaa scan` counts it as suppressed, not as a finding.
# hipaa:ignore EAR001 reason="CI build cache; holds no PHI and is rebuilt from source"
resource "aws_ebs_volume" "build_cache" {
  availability_zone = "us-east-1a"
  size              = 50
}

# No ssl_policy: the API default still accepts TLS 1.0.
resource "aws_lb_listener" "portal" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/portal/0123456789abcdef"
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = "arn:aws:acm:us-east-1:111122223333:certificate/5e1f0000-aaaa-bbbb-cccc-000011112222"

  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/portal/0123456789abcdef"
  }
}
