resource "hipaa_security_review" "example" {
  license_id   = hipaa_license.example.id
  performed_on = "2026-11-30"
  reviewer     = "security-office"
  summary      = "Quarterly review; no open findings."
}
