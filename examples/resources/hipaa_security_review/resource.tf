resource "hipaa_security_review" "example" {
  license_id   = hipaa_license.example.id
  performed_on = "2025-03-31" # the day it was completed; never in the future
  reviewer     = "security-office"
  summary      = "Quarterly review; no open findings."
}
