# variables.pkr.hcl: inputs of the spookyd AMI build (spookyd.pkr.hcl).

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region the AMI is built in (and registered in)."
}

variable "arch" {
  type        = string
  default     = "arm64"
  description = "CPU architecture: arm64 (Graviton, t4g) or amd64 (x86_64, t3)."

  validation {
    condition     = contains(["arm64", "amd64"], var.arch)
    error_message = "The arch must be arm64 or amd64 (Debian's names)."
  }
}

variable "instance_type" {
  type        = string
  default     = "t4g.small"
  description = "Build instance type; must match arch (t4g.* for arm64, t3.* for amd64)."
}

variable "ami_name_prefix" {
  type        = string
  default     = "spookyd"
  description = "AMI names are <prefix>-<arch>-<UTC timestamp>."
}

variable "git_ref" {
  type        = string
  default     = "HEAD"
  description = "Commit of this repository to build: `git archive` packs it, so uncommitted changes are not in the image."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet for the build instance; empty uses the default VPC."
}
