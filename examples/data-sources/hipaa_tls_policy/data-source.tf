data "hipaa_tls_policy" "example" {
  name = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

output "allows_old_tls" {
  value = !data.hipaa_tls_policy.example.compliant
}
