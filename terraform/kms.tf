# kms.tf: the customer managed key for the bucket, the table and the
# secrets.  No key policy is given, so AWS's default applies: the account
# grants use of the key through IAM policies (see iam.tf).

resource "aws_kms_key" "spookyd" {
  description             = "${var.name}: S3 images, DynamoDB jobs, Secrets Manager"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
}

resource "aws_kms_alias" "spookyd" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.spookyd.key_id
}
