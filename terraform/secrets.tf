# secrets.tf: the two secrets, created empty so that their values never
# reach Terraform's state; docs/deploy.md shows how to put them.

resource "aws_secretsmanager_secret" "openai" {
  name                    = "${var.name}/openai"
  description             = "OpenAI API key, the raw key as SecretString."
  kms_key_id              = aws_kms_key.spookyd.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret" "x" {
  name                    = "${var.name}/x"
  description             = "X API credentials: JSON with API_KEY, API_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET, BEARER_TOKEN."
  kms_key_id              = aws_kms_key.spookyd.arn
  recovery_window_in_days = 7
}
