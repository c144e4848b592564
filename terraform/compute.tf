# compute.tf: the Packer AMI in an Auto Scaling group of exactly one.
# The group replaces an instance that fails its EC2 status checks or is
# retired, which a lone aws_instance would not; with max_size = 1 two
# copies never run at once (an instance refresh terminates before it
# launches).  The security group has no ingress rule at all; egress is
# HTTPS only.  IMDS, the VPC's DNS resolver and the Amazon Time Sync
# Service are link-local and not filtered by security groups.

data "aws_ami" "spookyd" {
  count       = var.ami_id == "" ? 1 : 0
  owners      = ["self"]
  most_recent = true

  filter {
    name   = "name"
    values = ["${var.ami_name_prefix}-${var.arch}-*"]
  }

  filter {
    name   = "tag:Application"
    values = ["spookyd"]
  }
}

resource "aws_security_group" "spookyd" {
  name        = "${var.name}-instance"
  description = "spookyd: no inbound, outbound HTTPS only"
  vpc_id      = var.vpc_id

  egress {
    description      = "HTTPS to AWS, OpenAI and X"
    protocol         = "tcp"
    from_port        = 443
    to_port          = 443
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}

resource "aws_launch_template" "spookyd" {
  name_prefix            = "${var.name}-"
  image_id               = var.ami_id != "" ? var.ami_id : data.aws_ami.spookyd[0].id
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.spookyd.id]
  update_default_version = true

  # The config goes through user data: it holds references, no secrets.
  user_data = base64encode(join("\n", ["#cloud-config", yamlencode({
    write_files = [{
      path        = "/etc/spookyd/spookyd.conf"
      owner       = "root:spookyd"
      permissions = "0640"
      content     = local.spookyd_conf
    }]
  })]))

  iam_instance_profile {
    arn = aws_iam_instance_profile.spookyd.arn
  }

  # IMDSv2 only, and a hop limit of 1 so that the token cannot leave the
  # instance (to a container, say).
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = 8
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags = {
      Name = var.name
    }
  }
}

resource "aws_autoscaling_group" "spookyd" {
  name_prefix         = "${var.name}-"
  min_size            = 1
  max_size            = 1
  desired_capacity    = 1
  vpc_zone_identifier = var.subnet_ids
  health_check_type   = "EC2"

  launch_template {
    id      = aws_launch_template.spookyd.id
    version = aws_launch_template.spookyd.latest_version
  }

  # A new AMI or config replaces the instance: the old one stops first.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 0
    }
  }
}
