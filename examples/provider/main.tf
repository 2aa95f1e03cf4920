# A complete, compliant PHI stack declared with every hipaa_* resource type: one license, the
# boundary PHI stays in, a business associate agreement, a PHI system covered by it, an access
# role and the latest security review, plus the compliance status read back from the ledger.

terraform {
  required_providers {
    hipaa = {
      source = "example.com/acme/hipaa"
    }
  }
}

provider "hipaa" {
  # Every create, update and destroy is appended here as a hash-chained record. To keep the
  # ledger in S3 instead, with every record encrypted under a KMS key, replace this line with:
  #   ledger {
  #     s3_bucket  = "acme-hipaa-ledger"
  #     prefix     = "prod"
  #     kms_key_id = "alias/hipaa-ledger"
  #     region     = "us-east-1"
  #   }
  ledger_dir = ".hipaa-ledger"
}

# The day your latest security review was completed, e.g. `terraform apply -var
# last_review_date=2025-03-31` (Terraform asks when it is not given). There is no default on
# purpose: a review date is a fact only you know. It may not lie in the future, and once it is
# older than the license's review_interval_days (90 here) the `compliant` output turns false
# until a newer review is recorded.
variable "last_review_date" {
  description = "The day the latest security review was completed (YYYY-MM-DD)."
  type        = string
}

resource "hipaa_license" "clinic" {
  name                     = "acme-clinic"
  version                  = "2025.1"
  min_tls_version          = "1.2"
  customer_managed_keys    = true
  key_rotation_days        = 365
  mfa_required             = true
  log_retention_days       = 2190
  incident_response_hours  = 24
  breach_notification_days = 30
  review_interval_days     = 90
}

resource "hipaa_boundary" "us" {
  license_id = hipaa_license.clinic.id
  name       = "us-production"
  regions    = ["us-east-1", "us-west-2"]
  accounts   = ["111122223333"]
  # ARNs, as a live audit sees them. Next to the AWS resources themselves, refer to them
  # instead: aws_s3_bucket.claims.arn.
  members = [
    "arn:aws:s3:::acme-claims",
    "arn:aws:rds:us-east-1:111122223333:db:acme-claims",
  ]
  # Buckets tagged so must be declared; `hipaa audit aws` and `hipaa scan` report those that
  # are not.
  phi_tags = { "data-class" = "phi" }
}

resource "hipaa_baa" "aws" {
  vendor                   = "Amazon Web Services"
  services                 = ["s3", "rds", "kms"]
  effective_date           = "2025-01-01"
  expiration_date          = "2099-12-31"
  breach_notification_days = 30
  document_sha256          = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}

resource "hipaa_phi_system" "claims" {
  license_id   = hipaa_license.clinic.id
  boundary_id  = hipaa_boundary.us.id
  name         = "claims-store"
  resource     = "arn:aws:s3:::acme-claims"
  handles      = ["store", "process"]
  data_classes = ["claims", "diagnoses"]
  owner        = "claims-team"
  baa_ids      = [hipaa_baa.aws.id]
}

resource "hipaa_access_role" "analyst" {
  license_id          = hipaa_license.clinic.id
  name                = "claims-analyst"
  permissions         = ["claims:read"]
  members             = ["group:claims-analysts"]
  mfa_required        = true
  max_session_minutes = 30
}

resource "hipaa_security_review" "latest" {
  license_id   = hipaa_license.clinic.id
  performed_on = var.last_review_date
  reviewer     = "security-office"
  summary      = "Encryption, access and audit controls checked; no open findings."
}

data "hipaa_tls_policy" "load_balancer" {
  name = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

data "hipaa_compliance_status" "clinic" {
  license_id = hipaa_license.clinic.id

  depends_on = [
    hipaa_phi_system.claims,
    hipaa_access_role.analyst,
    hipaa_security_review.latest,
  ]
}

output "compliant" {
  value = data.hipaa_compliance_status.clinic.compliant
}

output "load_balancer_min_tls" {
  # The function fails the plan for a policy name the table does not know.
  value = provider::hipaa::tls_policy_min_version(data.hipaa_tls_policy.load_balancer.name)
}
