# dynamodb.tf: the job table, with the serverless app's schema so its
# items carry over: job_id (S) hash, timestamp (N) range, and the
# status-timestamp-index that spookyd queries for work.

resource "aws_dynamodb_table" "jobs" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  range_key                   = "timestamp"
  deletion_protection_enabled = true

  attribute {
    name = "job_id"
    type = "S"
  }

  attribute {
    name = "timestamp"
    type = "N"
  }

  attribute {
    name = "status"
    type = "S"
  }

  global_secondary_index {
    name            = "status-timestamp-index"
    hash_key        = "status"
    range_key       = "timestamp"
    projection_type = "ALL"
  }

  # spookyd sets ttl when [aws] retention > 0.
  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.spookyd.arn
  }
}
