# iam.tf: the instance role.  It may write and read images below the
# prefix (and read the calendar object when there is one), use the job
# table and its index, read the two secrets, and use the KMS key only
# through S3, DynamoDB and Secrets Manager.  No wildcard actions or
# resources: tests/proc/test_terraform.py checks it.

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    sid     = "Ec2AssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "spookyd" {
  statement {
    sid       = "ImagesReadWrite"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.images.arn}/${var.image_prefix}*"]
  }

  dynamic "statement" {
    for_each = var.calendar_s3_key == "" ? [] : [var.calendar_s3_key]
    content {
      sid       = "CalendarRead"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.images.arn}/${statement.value}"]
    }
  }

  statement {
    sid    = "JobItems"
    effect = "Allow"
    actions = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:GetItem",
      "dynamodb:Query",
    ]
    resources = [aws_dynamodb_table.jobs.arn]
  }

  statement {
    sid       = "JobQueue"
    effect    = "Allow"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.jobs.arn}/index/status-timestamp-index"]
  }

  statement {
    sid     = "Secrets"
    effect  = "Allow"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.openai.arn,
      aws_secretsmanager_secret.x.arn,
    ]
  }

  statement {
    sid       = "KeyThroughServices"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.spookyd.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${data.aws_region.current.name}.amazonaws.com",
        "dynamodb.${data.aws_region.current.name}.amazonaws.com",
        "secretsmanager.${data.aws_region.current.name}.amazonaws.com",
      ]
    }
  }
}

resource "aws_iam_role" "spookyd" {
  name               = "${var.name}-instance"
  description        = "spookyd on EC2: images, jobs, secrets"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

resource "aws_iam_role_policy" "spookyd" {
  name   = "${var.name}-access"
  role   = aws_iam_role.spookyd.id
  policy = data.aws_iam_policy_document.spookyd.json
}

resource "aws_iam_instance_profile" "spookyd" {
  name = "${var.name}-instance"
  role = aws_iam_role.spookyd.name
}
