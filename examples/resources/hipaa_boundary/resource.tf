resource "hipaa_boundary" "example" {
  license_id = hipaa_license.example.id
  name       = "us-production"
  regions    = ["us-east-1"]
  accounts   = ["111122223333"]
  # Refer to each member's ARN; the scanner follows the reference.
  members = [aws_s3_bucket.claims.arn, aws_db_instance.claims.arn]
}
