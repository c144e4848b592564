"""terraform/ read with @cdktf/hcl2json (no provider, no network): IMDSv2
only with hop limit 1; IAM policies built only from policy documents with
no wildcard action, resource or principal, KMS use only through the
services; the bucket private, versioned, expiring and SSE-KMS with a bucket
key; the job table with the serverless app's keys, index, TTL, PITR and
SSE-KMS; the key rotating; secrets under the key and without versions; a
security group with no ingress and HTTPS-only egress; one instance; every
variable and output described.  The config template renders to a config
that `spookyd --check` accepts.  Mutated copies prove the checks can fail."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from spookyd import BIN, TOP, Skip, check, run, run_tests  # noqa: E402

TF_DIR = os.path.join(TOP, "terraform")
HCL2JSON = os.path.join(TOP, "tests", "lib", "hcl2json.js")
KMS_REF = re.compile(r"^\$\{aws_kms_key\.\w+\.arn\}$")


def parse_dirs(dirs):
    """{dir: {"resource": {type: {name: body}}, "data": {...}, "variable":
    {...}, "locals": {...}}} merged over the .tf files of each dir, in one
    node run (starting the WebAssembly parser takes a second)."""
    if not shutil.which("node"):
        raise Skip("node is not installed")
    if not os.path.isdir(os.path.join(TOP, "tests", "node_modules",
                                      "@cdktf", "hcl2json")):
        raise Skip("@cdktf/hcl2json is not installed (tests/setup-deps)")
    files = [os.path.join(d, f) for d in dirs for f in sorted(os.listdir(d))
             if f.endswith(".tf")]
    r = subprocess.run(["node", HCL2JSON] + files, capture_output=True,
                       text=True, timeout=300)
    check(r.returncode == 0, r.stderr)
    out = {d: {"resource": {}, "data": {}, "variable": {}, "output": {},
               "locals": {}} for d in dirs}
    for path, doc in json.loads(r.stdout).items():
        tf = out[os.path.dirname(path)]
        for kind in ("resource", "data"):
            for rtype, named in doc.get(kind, {}).items():
                for name, bodies in named.items():
                    tf[kind].setdefault(rtype, {})[name] = bodies[0]
        for kind in ("variable", "output"):
            for name, bodies in doc.get(kind, {}).items():
                tf[kind][name] = bodies[0]
        for block in doc.get("locals", []):
            tf["locals"].update(block)
    return out


def parse(tf_dir):
    return parse_dirs([tf_dir])[tf_dir]


def one(block, key):
    """The single nested block `key` of block ({} if absent)."""
    v = block.get(key) or [{}]
    return v[0]


def resources(tf, rtype):
    return tf["resource"].get(rtype, {})


def statements(doc):
    """Every statement of an aws_iam_policy_document, dynamic ones too."""
    out = list(doc.get("statement", []))
    for dyn in doc.get("dynamic", {}).get("statement", []):
        out.extend(dyn.get("content", []))
    return out


def wildcard_resource(arn):
    """Any "*" makes a resource a wildcard, except the one needed for S3
    objects below a key prefix: <bucket ARN>/<non-empty prefix>*."""
    if "*" not in arn:
        return False
    return not re.fullmatch(r"\$\{aws_s3_bucket\.\w+\.arn\}/[^*]+\*", arn)


def imds_problems(tf):
    found = []
    hosts = dict(resources(tf, "aws_launch_template"))
    hosts.update(resources(tf, "aws_instance"))
    if not hosts:
        found.append("imds: no launch template or instance")
    for name, body in hosts.items():
        m = one(body, "metadata_options")
        if m.get("http_tokens") != "required":
            found.append("imds: %s allows IMDSv1" % name)
        if m.get("http_put_response_hop_limit") != 1:
            found.append("imds: %s hop limit is not 1" % name)
        if m.get("http_endpoint", "enabled") != "enabled":
            found.append("imds: %s has IMDS off; spookyd needs it" % name)
    return found


def iam_problems(tf):
    found = []
    docs = tf["data"].get("aws_iam_policy_document", {})
    # Every policy must come from a policy document, so that nothing
    # escapes the checks below (no jsonencode, no managed policy).
    for rtype, key in (("aws_iam_role", "assume_role_policy"),
                       ("aws_iam_role_policy", "policy"),
                       ("aws_iam_policy", "policy")):
        for name, body in resources(tf, rtype).items():
            m = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)"
                             r"\.json\}", body.get(key, ""))
            if not m or m.group(1) not in docs:
                found.append("iam: %s.%s is not a policy document" %
                             (rtype, name))
    for rtype in ("aws_iam_role_policy_attachment",
                  "aws_iam_policy_attachment"):
        if resources(tf, rtype):
            found.append("iam: %s cannot be checked" % rtype)
    for dname, doc in docs.items():
        for st in statements(doc):
            sid = "%s/%s" % (dname, st.get("sid", "?"))
            if st.get("effect", "Allow") != "Allow":
                continue
            if "not_actions" in st or "not_resources" in st:
                found.append("iam: %s uses not_actions/not_resources" % sid)
            for action in st.get("actions", []):
                if "*" in action:
                    found.append("iam: %s wildcard action %s" %
                                 (sid, action))
            for arn in st.get("resources", []):
                if wildcard_resource(arn):
                    found.append("iam: %s wildcard resource %s" %
                                 (sid, arn))
            for p in st.get("principals", []):
                if "*" in "".join(p.get("identifiers", [])):
                    found.append("iam: %s wildcard principal" % sid)
            kms = [a for a in st.get("actions", []) if a.startswith("kms:")]
            via = [c for c in st.get("condition", [])
                   if c.get("variable") == "kms:ViaService"]
            if kms and not via:
                found.append("iam: %s uses KMS without kms:ViaService" % sid)
    return found


def s3_problems(tf):
    found = []
    buckets = resources(tf, "aws_s3_bucket")
    if not buckets:
        return ["s3: no bucket"]
    for name in buckets:
        ref = "${aws_s3_bucket.%s.id}" % name

        def of(rtype):
            return [b for b in resources(tf, rtype).values()
                    if b.get("bucket") == ref]

        sse = of("aws_s3_bucket_server_side_encryption_configuration")
        rule = one(sse[0], "rule") if sse else {}
        default = one(rule, "apply_server_side_encryption_by_default")
        if default.get("sse_algorithm") != "aws:kms" or not KMS_REF.match(
                default.get("kms_master_key_id", "")):
            found.append("s3: %s not SSE-KMS with the key" % name)
        if rule.get("bucket_key_enabled") is not True:
            found.append("s3: %s has no bucket key" % name)
        pab = of("aws_s3_bucket_public_access_block")
        for flag in ("block_public_acls", "block_public_policy",
                     "ignore_public_acls", "restrict_public_buckets"):
            if not pab or pab[0].get(flag) is not True:
                found.append("s3: %s %s is not true" % (name, flag))
        ver = of("aws_s3_bucket_versioning")
        if not ver or one(ver[0], "versioning_configuration").get(
                "status") != "Enabled":
            found.append("s3: %s is not versioned" % name)
        own = of("aws_s3_bucket_ownership_controls")
        if not own or one(own[0], "rule").get(
                "object_ownership") != "BucketOwnerEnforced":
            found.append("s3: %s ACLs are not off" % name)
        life = of("aws_s3_bucket_lifecycle_configuration")
        rules = life[0].get("rule", []) if life else []
        live = [r for r in rules if r.get("status") == "Enabled"]
        if not any(one(r, "expiration").get("days") for r in live):
            found.append("s3: %s images never expire" % name)
        if not any(one(r, "noncurrent_version_expiration").get(
                "noncurrent_days") for r in live):
            found.append("s3: %s keeps old versions forever" % name)
    return found


def dynamodb_problems(tf):
    tables = resources(tf, "aws_dynamodb_table")
    if len(tables) != 1:
        return ["dynamodb: want one table, have %d" % len(tables)]
    t = list(tables.values())[0]
    found = []
    want = {"hash_key": "job_id", "range_key": "timestamp",
            "billing_mode": "PAY_PER_REQUEST"}
    for k, v in want.items():
        if t.get(k) != v:
            found.append("dynamodb: %s is %r, not %r" % (k, t.get(k), v))
    attrs = {a["name"]: a["type"] for a in t.get("attribute", [])}
    if attrs != {"job_id": "S", "timestamp": "N", "status": "S"}:
        found.append("dynamodb: attributes %r" % attrs)
    gsi = {g.get("name"): g for g in t.get("global_secondary_index", [])}
    g = gsi.get("status-timestamp-index", {})
    if (g.get("hash_key"), g.get("range_key"), g.get("projection_type")) != (
            "status", "timestamp", "ALL"):
        found.append("dynamodb: status-timestamp-index is %r" % g)
    ttl = one(t, "ttl")
    if ttl.get("attribute_name") != "ttl" or ttl.get("enabled") is not True:
        found.append("dynamodb: TTL on `ttl` is not enabled")
    if one(t, "point_in_time_recovery").get("enabled") is not True:
        found.append("dynamodb: no point-in-time recovery")
    sse = one(t, "server_side_encryption")
    if sse.get("enabled") is not True or not KMS_REF.match(
            sse.get("kms_key_arn", "")):
        found.append("dynamodb: not encrypted with the key")
    return found


def kms_and_secrets_problems(tf):
    found = []
    keys = resources(tf, "aws_kms_key")
    if not keys:
        found.append("kms: no key")
    for name, k in keys.items():
        if k.get("enable_key_rotation") is not True:
            found.append("kms: %s does not rotate" % name)
    secrets = resources(tf, "aws_secretsmanager_secret")
    if len(secrets) != 2:
        found.append("secrets: want 2 (openai, x), have %d" % len(secrets))
    for name, s in secrets.items():
        if not KMS_REF.match(s.get("kms_key_id", "")):
            found.append("secrets: %s not under the key" % name)
    if resources(tf, "aws_secretsmanager_secret_version"):
        found.append("secrets: a secret value would be in the state")
    return found


def network_problems(tf):
    found = []
    groups = resources(tf, "aws_security_group")
    if not groups:
        found.append("sg: no security group")
    for name, g in groups.items():
        if g.get("ingress"):
            found.append("sg: %s has ingress" % name)
        for e in g.get("egress", []):
            if (e.get("from_port"), e.get("to_port"),
                    e.get("protocol")) != (443, 443, "tcp"):
                found.append("sg: %s egress beyond HTTPS: %r" % (name, e))
    for name, r in resources(tf, "aws_security_group_rule").items():
        if r.get("type") == "ingress":
            found.append("sg: ingress rule %s" % name)
    if resources(tf, "aws_vpc_security_group_ingress_rule"):
        found.append("sg: ingress rule resource")
    for name, a in resources(tf, "aws_autoscaling_group").items():
        if (a.get("min_size"), a.get("max_size")) != (1, 1):
            found.append("asg: %s is not exactly one instance" % name)
    return found


def docs_problems(tf):
    return ["docs: %s %s has no description" % (kind, name)
            for kind in ("variable", "output")
            for name, body in tf[kind].items()
            if not body.get("description", "").strip()]


CHECKS = (imds_problems, iam_problems, s3_problems, dynamodb_problems,
          kms_and_secrets_problems, network_problems, docs_problems)


def all_problems(tf):
    return [p for c in CHECKS for p in c(tf)]


def mutate(tmp, i, name, old, new):
    """A copy of terraform/ with old replaced by new in file name."""
    copy = os.path.join(tmp, "tf-%d" % i)
    shutil.copytree(TF_DIR, copy)
    path = os.path.join(copy, name)
    with open(path) as f:
        text = f.read()
    check(old in text, "%r not in %s" % (old, name))
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))
    return copy


def test_shipped_terraform_passes_every_check(tmp):
    tf = parse(TF_DIR)
    problems = all_problems(tf)
    check(not problems, "\n".join(problems))
    print("  checked %d resources, %d policy statements" % (
        sum(len(v) for v in tf["resource"].values()),
        sum(len(statements(d)) for d in
            tf["data"].get("aws_iam_policy_document", {}).values())))


def test_checks_notice_mutations(tmp):
    cases = [
        ("iam.tf", '"s3:PutObject"', '"s3:*"', "wildcard action s3:*"),
        ("iam.tf", "resources = [aws_dynamodb_table.jobs.arn]",
         'resources = ["*"]', "wildcard resource *"),
        ("iam.tf", "/index/status-timestamp-index", "/index/*",
         "wildcard resource"),
        ("iam.tf", "policy = data.aws_iam_policy_document.spookyd.json",
         'policy = jsonencode({ Statement = [] })', "not a policy document"),
        ("iam.tf", 'variable = "kms:ViaService"',
         'variable = "kms:CallerAccount"', "without kms:ViaService"),
        ("compute.tf", 'http_tokens                 = "required"',
         'http_tokens                 = "optional"', "allows IMDSv1"),
        ("compute.tf", "http_put_response_hop_limit = 1",
         "http_put_response_hop_limit = 2", "hop limit"),
        ("compute.tf", "  egress {",
         "  ingress {\n    protocol  = \"tcp\"\n    from_port = 22\n"
         "    to_port   = 22\n  }\n\n  egress {", "has ingress"),
        ("s3.tf", "bucket_key_enabled = true", "bucket_key_enabled = false",
         "no bucket key"),
        ("s3.tf", "restrict_public_buckets = true",
         "restrict_public_buckets = false", "restrict_public_buckets"),
        ("s3.tf", 'status = "Enabled"\n  }', 'status = "Suspended"\n  }',
         "not versioned"),
        ("dynamodb.tf", 'projection_type = "ALL"',
         'projection_type = "KEYS_ONLY"', "status-timestamp-index"),
        ("dynamodb.tf", "point_in_time_recovery {\n    enabled = true",
         "point_in_time_recovery {\n    enabled = false",
         "point-in-time"),
        ("variables.tf", '  description = "VPC the instance runs in."\n',
         "", "variable vpc_id has no description"),
        ("kms.tf", "enable_key_rotation     = true",
         "enable_key_rotation     = false", "does not rotate"),
        ("secrets.tf", "recovery_window_in_days = 7\n}\n",
         "recovery_window_in_days = 7\n}\n\nresource "
         '"aws_secretsmanager_secret_version" "v" {\n'
         '  secret_id     = aws_secretsmanager_secret.x.id\n'
         '  secret_string = "hunter2"\n}\n', "in the state"),
    ]
    copies = [mutate(tmp, i, *case[:3]) for i, case in enumerate(cases)]
    parsed = parse_dirs(copies)
    for copy, (name, old, new, want) in zip(copies, cases):
        problems = all_problems(parsed[copy])
        check(any(want in p for p in problems),
              "%s: %r -> %r not noticed (%r)" % (name, old, new, problems))


def test_wildcard_resource_rule(tmp):
    for arn, wild in [
            ("*", True), ("arn:aws:s3:::*", True),
            ("${aws_s3_bucket.images.arn}/*", True),
            ("${aws_s3_bucket.images.arn}/${var.image_prefix}*", False),
            ("${aws_s3_bucket.images.arn}/images/*", False),
            ("${aws_s3_bucket.images.arn}/*/x", True),
            ("${aws_dynamodb_table.jobs.arn}/index/*", True),
            ("${aws_dynamodb_table.jobs.arn}", False)]:
        check(wildcard_resource(arn) == wild, "%s: want %s" % (arn, wild))


def template_values(tf, calendar):
    v = {k: b.get("default") for k, b in tf["variable"].items()}
    arn = ("arn:aws:secretsmanager:us-east-1:123456789012:secret:"
           "spookyd/%s-Ab12Cd")
    return {
        "region": "us-east-1", "bucket": "spookyd-images-2026120312000001",
        "image_prefix": v["image_prefix"], "table": v["table_name"],
        "job_retention_days": str(v["job_retention_days"]),
        "calendar_source": calendar,
        "schedule_cron": v["schedule_cron"], "timezone": v["timezone"],
        "openai_secret_arn": arn % "openai", "x_secret_arn": arn % "x",
    }


def test_config_template_passes_spookyd_check(tmp):
    if not os.path.exists(BIN):
        raise Skip("spookyd is not built")
    tf = parse(TF_DIR)
    with open(os.path.join(TF_DIR, "spookyd.conf.tftpl")) as f:
        template = f.read()
    names = set(re.findall(r"\$\{(\w+)\}", template))
    # Every placeholder is passed by main.tf's templatefile() call.
    call = tf["locals"]["spookyd_conf"]
    passed = set(re.findall(r"^\s*(\w+)\s*=", call, re.M))
    check(names == passed, "template %s, templatefile() passes %s" %
          (sorted(names), sorted(passed)))
    calendar = os.path.join(TOP, "conf", "national-days.json")
    for source in (calendar, "s3://spookyd-images-x/calendar.json"):
        values = template_values(tf, source)
        check(names <= set(values), sorted(names - set(values)))
        text = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)],
                      template)
        conf = os.path.join(tmp, "spookyd.conf")
        with open(conf, "w") as f:
            f.write(text)
        r = run("-c", conf, "--check")
        check(r.returncode == 0, "%s\n%s%s" % (text, r.stdout, r.stderr))


def test_terraform_fmt(tmp):
    if not shutil.which("terraform"):
        raise Skip("terraform is not installed (only fmt needs it)")
    env = dict(os.environ, HOME=tmp, CHECKPOINT_DISABLE="1",
               TF_CLI_CONFIG_FILE=os.devnull)
    r = subprocess.run(["terraform", "fmt", "-check", "-diff", TF_DIR],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode == 0, "terraform fmt would change:\n" + r.stdout +
          r.stderr)


if __name__ == "__main__":
    run_tests(globals())
