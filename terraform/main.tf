# main.tf: spookyd on AWS.  One KMS key encrypts the bucket, the table and
# the secrets; one instance (an Auto Scaling group of 1) runs the Packer
# AMI with a role that may touch only these resources.  Resources live in
# kms.tf, s3.tf, dynamodb.tf, secrets.tf, iam.tf and compute.tf.

data "aws_region" "current" {}

locals {
  calendar_source = (var.calendar_s3_key == ""
    ? "/etc/spookyd/national-days.json"
    : "s3://${aws_s3_bucket.images.id}/${var.calendar_s3_key}"
  )

  # The whole config; secrets appear only as secretsmanager: references.
  spookyd_conf = templatefile("${path.module}/spookyd.conf.tftpl", {
    region             = data.aws_region.current.name
    bucket             = aws_s3_bucket.images.id
    image_prefix       = var.image_prefix
    table              = aws_dynamodb_table.jobs.name
    job_retention_days = var.job_retention_days
    calendar_source    = local.calendar_source
    schedule_cron      = var.schedule_cron
    timezone           = var.timezone
    openai_secret_arn  = aws_secretsmanager_secret.openai.arn
    x_secret_arn       = aws_secretsmanager_secret.x.arn
  })
}
