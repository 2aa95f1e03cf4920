resource "hipaa_baa" "example" {
  vendor          = "Amazon Web Services"
  services        = ["s3", "rds"]
  effective_date  = "2025-01-01"
  expiration_date = "2099-12-31"
  document_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}
