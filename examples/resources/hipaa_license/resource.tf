resource "hipaa_license" "example" {
  name                     = "acme-clinic"
  version                  = "2025.1"
  min_tls_version          = "1.3"
  customer_managed_keys    = true
  log_retention_days       = 2190
  breach_notification_days = 30
}
