# versions.tf: Terraform and provider versions, and the AWS provider.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Application = var.name
      ManagedBy   = "terraform"
    }
  }
}
