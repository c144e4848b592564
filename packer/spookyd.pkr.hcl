# spookyd.pkr.hcl: builds a Debian 12 AMI with spookyd installed, checked
# and enabled but not configured: Terraform's cloud-init writes
# /etc/spookyd/spookyd.conf at first boot.  Written for Packer 1.6.6
# (Debian's), whose amazon builder is built in: no required_plugins.
# Run from the repository root: packer build packer/

locals {
  # Debian's official AMIs name the x86_64 ones "amd64".
  ec2_arch  = var.arch == "arm64" ? "arm64" : "x86_64"
  stamp     = formatdate("YYYYMMDD-hhmmss", timestamp())
  tarball   = "/tmp/spookyd-src.tar.gz"
  repo_root = "${path.root}/.."
}

source "amazon-ebs" "debian12" {
  region          = var.region
  instance_type   = var.instance_type
  subnet_id       = var.subnet_id
  ami_name        = "${var.ami_name_prefix}-${var.arch}-${local.stamp}"
  ami_description = "spookyd ${var.git_ref} on Debian 12 (${var.arch})"
  ssh_username    = "admin"

  source_ami_filter {
    owners      = ["136693071363"] # Debian's official AWS account
    most_recent = true
    filters = {
      name                = "debian-12-${var.arch}-*"
      architecture        = local.ec2_arch
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
  }

  # Packer 1.6.6's amazon-ebs has no metadata_options block (it came with
  # the amazon plugin in Packer 1.7), so IMDSv2 cannot be required here:
  # make it the region's default (docs/deploy.md); provision.sh fails the
  # build if IMDSv1 answers.

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 8
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    delete_on_termination = true
  }

  tags = {
    Name        = "spookyd"
    Application = "spookyd"
    GitRef      = var.git_ref
    BaseAMI     = "{{ .SourceAMIName }}"
  }
}

build {
  sources = ["source.amazon-ebs.debian12"]

  # Only committed files go into the image: no build/, no node_modules.
  provisioner "shell-local" {
    inline = ["git -C '${local.repo_root}' archive --format=tar.gz -o '${local.tarball}' '${var.git_ref}'"]
  }

  provisioner "file" {
    source      = local.tarball
    destination = "/tmp/spookyd-src.tar.gz"
    generated   = true # made by the step above, not there at validate time
  }

  provisioner "file" {
    source      = "${path.root}/cloud-init.conf"
    destination = "/tmp/spookyd-cloud-init.conf"
  }

  provisioner "shell" {
    execute_command = "sudo -E sh -eu '{{ .Path }}'"
    script          = "${path.root}/provision.sh"
  }

  provisioner "shell-local" {
    inline = ["rm -f '${local.tarball}'"]
  }
}
