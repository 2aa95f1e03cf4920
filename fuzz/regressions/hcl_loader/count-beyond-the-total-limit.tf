# Three blocks of the most instances one count may make: 299 997 instances in all.
resource "aws_ebs_volume" "v0" {
  count     = 99999
  encrypted = false
}

resource "aws_ebs_volume" "v1" {
  count     = 99999
  encrypted = false
}

resource "aws_ebs_volume" "v2" {
  count     = 99999
  encrypted = false
}
