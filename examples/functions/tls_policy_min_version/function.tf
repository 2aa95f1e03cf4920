output "min_tls" {
  value = provider::hipaa::tls_policy_min_version("ELBSecurityPolicy-TLS13-1-2-2021-06")
}
