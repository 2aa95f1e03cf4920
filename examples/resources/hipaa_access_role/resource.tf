resource "hipaa_access_role" "example" {
  license_id          = hipaa_license.example.id
  name                = "claims-analyst"
  permissions         = ["claims:read"]
  members             = ["group:claims-analysts"]
  max_session_minutes = 30
}
