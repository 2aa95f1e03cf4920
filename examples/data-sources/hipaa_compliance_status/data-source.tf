data "hipaa_compliance_status" "example" {
  license_id = hipaa_license.example.id
}

output "phi_systems_without_baa" {
  value = data.hipaa_compliance_status.example.phi_systems_without_baa
}
