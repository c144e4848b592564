# s3.tf: the private image bucket.  Objects are encrypted with the KMS key
# (a bucket key keeps KMS calls few), owned by the bucket owner (ACLs
# off), versioned, and expire after image_retention_days.

resource "aws_s3_bucket" "images" {
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name}-images-" : null
}

resource "aws_s3_bucket_ownership_controls" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "images" {
  bucket                  = aws_s3_bucket.images.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "images" {
  bucket = aws_s3_bucket.images.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.spookyd.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  # Lifecycle rules act on versions, so versioning must be on first.
  depends_on = [aws_s3_bucket_versioning.images]

  rule {
    id     = "expire-images"
    status = "Enabled"

    filter {
      prefix = var.image_prefix
    }

    expiration {
      days = var.image_retention_days
    }
  }

  rule {
    id     = "remove-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
