# outputs.tf: names the operator needs after `terraform apply`.

output "bucket" {
  description = "S3 bucket for the images."
  value       = aws_s3_bucket.images.id
}

output "table" {
  description = "DynamoDB job table."
  value       = aws_dynamodb_table.jobs.name
}

output "kms_key_arn" {
  description = "KMS key for the bucket, the table and the secrets."
  value       = aws_kms_key.spookyd.arn
}

output "openai_secret_arn" {
  description = "Secret for the OpenAI API key: put the raw key."
  value       = aws_secretsmanager_secret.openai.arn
}

output "x_secret_arn" {
  description = "Secret for the X credentials: put the JSON object."
  value       = aws_secretsmanager_secret.x.arn
}

output "instance_role_arn" {
  description = "IAM role of the spookyd instance."
  value       = aws_iam_role.spookyd.arn
}

output "autoscaling_group" {
  description = "Auto Scaling group that keeps one spookyd instance running."
  value       = aws_autoscaling_group.spookyd.name
}

output "spookyd_conf" {
  description = "The /etc/spookyd/spookyd.conf the instance gets."
  value       = local.spookyd_conf
}
