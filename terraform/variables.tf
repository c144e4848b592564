# variables.tf: inputs.  Only vpc_id and subnet_ids have no default.

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region for every resource; the AMI must have been built there (packer -var region=...)."
}

variable "name" {
  type        = string
  default     = "spookyd"
  description = "Prefix for resource names (role, secrets, key alias, instances)."
}

variable "vpc_id" {
  type        = string
  description = "VPC the instance runs in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets for the Auto Scaling group.  They need a route out to the internet (a NAT gateway, or a public subnet that assigns public IPs): spookyd calls AWS, OpenAI and X over HTTPS."
}

variable "ami_id" {
  type        = string
  default     = ""
  description = "AMI to run; empty picks the newest AMI of this account built by packer/ for var.arch."
}

variable "ami_name_prefix" {
  type        = string
  default     = "spookyd"
  description = "The ami_name_prefix given to Packer; used when ami_id is empty."
}

variable "arch" {
  type        = string
  default     = "arm64"
  description = "AMI architecture (Debian's names): arm64 or amd64.  Must match instance_type."

  validation {
    condition     = contains(["arm64", "amd64"], var.arch)
    error_message = "The arch must be arm64 or amd64."
  }
}

variable "instance_type" {
  type        = string
  default     = "t4g.micro"
  description = "EC2 instance type; t4g.* for arm64, t3.* for amd64.  spookyd needs well under 512 MB."
}

variable "bucket_name" {
  type        = string
  default     = null
  description = "S3 bucket for the images; null lets AWS make a unique name starting with <name>-images-."
}

variable "image_prefix" {
  type        = string
  default     = "images/"
  description = "Key prefix of the images in the bucket; the instance may write and read only below it."

  validation {
    condition     = can(regex("^[^*]+/$", var.image_prefix))
    error_message = "The image_prefix must be non-empty, end with / and hold no *."
  }
}

variable "image_retention_days" {
  type        = number
  default     = 365
  description = "Days after which an image under image_prefix expires."

  validation {
    condition     = var.image_retention_days >= 1
    error_message = "The image_retention_days must be at least 1."
  }
}

variable "noncurrent_version_days" {
  type        = number
  default     = 30
  description = "Days a replaced or deleted object version is kept before it is removed."

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "The noncurrent_version_days must be at least 1."
  }
}

variable "calendar_s3_key" {
  type        = string
  default     = ""
  description = "Object key of the national-days calendar in the image bucket; empty uses the calendar installed in the AMI (/etc/spookyd/national-days.json)."
}

variable "table_name" {
  type        = string
  default     = "spooky-jobs"
  description = "DynamoDB job table name (the serverless app's schema)."
}

variable "job_retention_days" {
  type        = number
  default     = 0
  description = "Days to keep job items (spookyd sets their ttl attribute); 0 keeps them."
}

variable "schedule_cron" {
  type        = string
  default     = "0 8 * * mon-fri"
  description = "When the generate step runs (spookyd.conf [schedule] cron)."
}

variable "timezone" {
  type        = string
  default     = "America/New_York"
  description = "IANA time zone the cron fields are read in."
}

variable "kms_deletion_window_days" {
  type        = number
  default     = 30
  description = "Waiting period before a deleted KMS key is destroyed (7 to 30)."
}
