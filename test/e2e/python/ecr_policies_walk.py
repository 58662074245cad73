#!/usr/bin/env python3
"""Drives, through the image's newer boto3 (python3 on PATH, 1.43), the operations of botocore's model that no other
boto3 walk calls: account settings, registry and repository policies, lifecycle policies and their previews, the
registry scanning configuration and a repository's, StartImageScan and DescribeImageScanFindings. Each answer is
checked, and each exception by its boto3 class.

Environment: BERTH_URL, BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY, BERTH_REPOSITORY (a repository holding an
image tagged v1). Prints one JSON line per passed step ({"step": ...}) and exits 0 only if every step passed.
"""
import json
import os
import time

import boto3
from botocore.config import Config

ecr = boto3.client(
    "ecr",
    endpoint_url=os.environ["BERTH_URL"],
    region_name="us-east-1",
    aws_access_key_id=os.environ["BERTH_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["BERTH_SECRET_ACCESS_KEY"],
    config=Config(retries={"max_attempts": 1}),
)
X = ecr.exceptions
REPO = os.environ["BERTH_REPOSITORY"]


def step(name):
    print(json.dumps({"step": name}), flush=True)


def expect(exc_class, fn, **kwargs):
    try:
        result = fn(**kwargs)
    except exc_class as e:
        assert e.response["Error"]["Code"] == exc_class.__name__, e.response
        return e
    raise AssertionError(f"expected {exc_class.__name__}, got {result}")


# Account settings.
scope = ecr.get_account_setting(name="REGISTRY_POLICY_SCOPE")
assert (scope["name"], scope["value"]) == ("REGISTRY_POLICY_SCOPE", "V2"), scope
assert ecr.put_account_setting(name="BLOB_MOUNTING", value="DISABLED")["value"] == "DISABLED"
assert ecr.get_account_setting(name="BLOB_MOUNTING")["value"] == "DISABLED"
assert ecr.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")["value"] == "ENABLED"
expect(X.ValidationException, ecr.put_account_setting, name="BLOB_MOUNTING", value="SOMETIMES")
step("account settings")

# Registry policy.
registry_id = ecr.describe_registry()["registryId"]
expect(X.RegistryPolicyNotFoundException, ecr.get_registry_policy)
policy = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Replicate", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{registry_id}:root"},
    "Action": ["ecr:ReplicateImage"], "Resource": f"arn:aws:ecr:us-east-1:{registry_id}:repository/*"}]})
assert ecr.put_registry_policy(policyText=policy)["registryId"] == registry_id
assert json.loads(ecr.get_registry_policy()["policyText"]) == json.loads(policy)
assert json.loads(ecr.delete_registry_policy()["policyText"]) == json.loads(policy)
expect(X.RegistryPolicyNotFoundException, ecr.delete_registry_policy)
step("registry policy")

# Repository policy.
expect(X.RepositoryPolicyNotFoundException, ecr.get_repository_policy, repositoryName=REPO)
pull_only = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{registry_id}:root"},
    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]})
assert ecr.set_repository_policy(repositoryName=REPO, policyText=pull_only)["repositoryName"] == REPO
assert json.loads(ecr.get_repository_policy(repositoryName=REPO)["policyText"]) == json.loads(pull_only)
expect(X.InvalidParameterException, ecr.set_repository_policy, repositoryName=REPO, policyText="{not json")
assert json.loads(ecr.delete_repository_policy(repositoryName=REPO)["policyText"]) == json.loads(pull_only)
expect(X.RepositoryPolicyNotFoundException, ecr.delete_repository_policy, repositoryName=REPO)
step("repository policy")

# Lifecycle policy and its preview.
expect(X.LifecyclePolicyNotFoundException, ecr.get_lifecycle_policy, repositoryName=REPO)
rules = json.dumps({"rules": [{"rulePriority": 1, "description": "keep 1", "selection": {
    "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]})
assert ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=rules)["repositoryName"] == REPO
assert json.loads(ecr.get_lifecycle_policy(repositoryName=REPO)["lifecyclePolicyText"]) == json.loads(rules)
expect(X.InvalidParameterException, ecr.put_lifecycle_policy, repositoryName=REPO,
       lifecyclePolicyText=json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 0}, "action": {"type": "expire"}}]}))
assert ecr.start_lifecycle_policy_preview(repositoryName=REPO)["status"] == "IN_PROGRESS"
deadline = time.time() + 60
while True:
    preview = ecr.get_lifecycle_policy_preview(repositoryName=REPO)
    if preview["status"] != "IN_PROGRESS":
        break
    assert time.time() < deadline, preview
    time.sleep(0.25)
assert preview["status"] == "COMPLETE" and preview["previewResults"] == [], preview
assert json.loads(ecr.delete_lifecycle_policy(repositoryName=REPO)["lifecyclePolicyText"]) == json.loads(rules)
expect(X.LifecyclePolicyNotFoundException, ecr.delete_lifecycle_policy, repositoryName=REPO)
step("lifecycle policy")

# Scanning configuration, and a manual scan.
config = ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[
    {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": REPO.split("/")[0] + "*", "filterType": "WILDCARD"}]}])
assert config["registryScanningConfiguration"]["scanType"] == "BASIC", config
assert ecr.get_registry_scanning_configuration()["scanningConfiguration"]["rules"][0]["scanFrequency"] == "SCAN_ON_PUSH"
expect(X.ValidationException, ecr.put_registry_scanning_configuration, scanType="BASIC",
       rules=[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}])
batch = ecr.batch_get_repository_scanning_configuration(repositoryNames=[REPO])
assert batch["scanningConfigurations"][0]["repositoryName"] == REPO and batch["scanningConfigurations"][0]["scanOnPush"], batch
scan = ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "v1"})
assert scan["imageScanStatus"]["status"] in ("IN_PROGRESS", "COMPLETE"), scan
deadline = time.time() + 60
while True:
    findings = ecr.describe_image_scan_findings(repositoryName=REPO, imageId={"imageTag": "v1"})
    if findings["imageScanStatus"]["status"] != "IN_PROGRESS":
        break
    assert time.time() < deadline, findings
    time.sleep(0.25)
assert findings["imageScanStatus"]["status"] == "COMPLETE" and findings["imageScanFindings"]["findings"] == [], findings
expect(X.ImageNotFoundException, ecr.describe_image_scan_findings, repositoryName=REPO, imageId={"imageTag": "nope"})
ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])
step("scanning")
step("done")
