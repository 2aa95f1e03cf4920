resource "hipaa_boundary" "example" {
  license_id = hipaa_license.example.id
  name       = "us-production"
  regions    = ["us-east-1"]
  accounts   = ["111122223333"]
  members    = ["aws_s3_bucket.claims"]
}
