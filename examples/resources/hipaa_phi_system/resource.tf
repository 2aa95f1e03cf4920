resource "hipaa_phi_system" "example" {
  license_id   = hipaa_license.example.id
  boundary_id  = hipaa_boundary.example.id
  name         = "claims-store"
  resource     = aws_s3_bucket.claims.arn
  handles      = ["store"]
  data_classes = ["claims"]
  owner        = "claims-team"
  baa_ids      = [hipaa_baa.example.id]
}
