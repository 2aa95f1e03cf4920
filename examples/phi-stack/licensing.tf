# The licensing model this stack runs under: what may touch PHI, and on what terms.

resource "hipaa_license" "clinic" {
  name                     = "northwind-clinic-phi"
  version                  = "2026.2"
  min_tls_version          = "1.2"
  customer_managed_keys    = true
  key_rotation_days        = 365
  mfa_required             = true
  log_retention_days       = 2190
  incident_response_hours  = 24
  breach_notification_days = 30
  review_interval_days     = 90
}

resource "hipaa_boundary" "production" {
  license_id = hipaa_license.clinic.id
  name       = "production PHI"
  regions    = ["us-east-1"]
  accounts   = ["111122223333"]
  members = [
    aws_kms_key.phi.arn,
    aws_s3_bucket.records.arn,
    aws_s3_bucket.access_logs.arn,
    aws_db_instance.ehr.arn,
    aws_cloudwatch_log_group.app.arn,
  ]
}

resource "hipaa_baa" "aws" {
  vendor                    = "Amazon Web Services"
  services                  = ["s3", "rds", "kms", "elasticloadbalancing", "logs"]
  effective_date            = "2026-01-01"
  expiration_date           = "2028-12-31"
  breach_notification_days  = 30
  audit_rights              = true
  security_updates_required = true
  termination_right         = true
  subcontractor_flowdown    = true
}

resource "hipaa_phi_system" "records" {
  license_id   = hipaa_license.clinic.id
  boundary_id  = hipaa_boundary.production.id
  name         = "patient records archive"
  resource     = aws_s3_bucket.records.arn
  handles      = ["store"]
  data_classes = ["clinical-notes", "imaging"]
  owner        = "records-team@northwind.example"
  baa_ids      = [hipaa_baa.aws.id]
}

resource "hipaa_phi_system" "ehr" {
  license_id   = hipaa_license.clinic.id
  boundary_id  = hipaa_boundary.production.id
  name         = "electronic health record database"
  resource     = aws_db_instance.ehr.arn
  handles      = ["store", "process"]
  data_classes = ["demographics", "diagnoses"]
  owner        = "ehr-team@northwind.example"
  baa_ids      = [hipaa_baa.aws.id]
}

resource "hipaa_access_role" "clinicians" {
  license_id          = hipaa_license.clinic.id
  name                = "clinicians"
  permissions         = ["ehr:read", "ehr:write", "records:read"]
  members             = ["group:clinicians"]
  mfa_required        = true
  max_session_minutes = 60
}

resource "hipaa_security_review" "q4" {
  license_id   = hipaa_license.clinic.id
  performed_on = "2026-10-15"
  reviewer     = "security-office@northwind.example"
  summary      = "Quarterly review of access, encryption and logging; no open issues."
}
