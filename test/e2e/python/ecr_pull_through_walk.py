#!/usr/bin/env python3
"""Drives the five pull through cache rule operations with the image's newer boto3 (python3 on PATH, 1.43):
CreatePullThroughCacheRule, DescribePullThroughCacheRules, UpdatePullThroughCacheRule, ValidatePullThroughCacheRule and
DeletePullThroughCacheRule, asserting each answer and each exception by its boto3 class (botocore builds it from the
wire's `__type`).

Environment: BERTH_URL, BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY, BERTH_SECRET_ARN (a secret of Berth's secret
store holding this Berth's own root key: the generic rule's upstream is this Berth itself).
Prints one JSON line per passed step ({"step": ...}) and exits 0 only if every step passed.
Reference: the ECR API reference and the botocore service model (data/ecr/2015-09-21/service-2.json).
"""
import json
import os

import boto3
import botocore
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
SECRET = os.environ["BERTH_SECRET_ARN"]
ACCOUNT = SECRET.split(":")[4]
MISSING = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ecr-pullthroughcache/missing"


def step(name):
    print(json.dumps({"step": name}), flush=True)


def expect(exc_class, fn, **kwargs):
    try:
        result = fn(**kwargs)
    except exc_class as e:
        assert e.response["Error"]["Code"] == exc_class.__name__, e.response
        return e
    except botocore.exceptions.ClientError as e:
        raise AssertionError(f"expected {exc_class.__name__}, got {e.response['Error']['Code']}: {e}") from e
    raise AssertionError(f"expected {exc_class.__name__}, got success: {result}")


step("versions")

# CreatePullThroughCacheRule
expect(X.UnsupportedUpstreamRegistryException, ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="hub", upstreamRegistryUrl="registry-1.docker.io")
expect(X.SecretNotFoundException, ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="hub", upstreamRegistryUrl="registry-1.docker.io", credentialArn=MISSING)
expect(X.InvalidParameterException, ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="hub", upstreamRegistryUrl="registry-1.docker.io",
       credentialArn=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:not-ecr/x")
hub = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="hub", upstreamRegistryUrl="registry-1.docker.io", upstreamRegistry="docker-hub", credentialArn=SECRET)
assert hub["upstreamRegistry"] == "docker-hub" and hub["credentialArn"] == SECRET and hub["registryId"] == ACCOUNT, hub
expect(X.PullThroughCacheRuleAlreadyExistsException, ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="hub", upstreamRegistryUrl="quay.io")
ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="k8s", upstreamRegistryUrl="registry.k8s.io")
self_rule = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="self", upstreamRegistryUrl=os.environ["BERTH_URL"], credentialArn=SECRET)
assert "upstreamRegistry" not in self_rule, self_rule
step("create_pull_through_cache_rule")

# DescribePullThroughCacheRules
rules, token = [], None
while True:
    page = ecr.describe_pull_through_cache_rules(maxResults=1, **({"nextToken": token} if token else {}))
    rules += page["pullThroughCacheRules"]
    token = page.get("nextToken")
    if not token:
        break
assert [r["ecrRepositoryPrefix"] for r in rules] == ["hub", "k8s", "self"], rules
expect(X.PullThroughCacheRuleNotFoundException, ecr.describe_pull_through_cache_rules, ecrRepositoryPrefixes=["nope"])
step("describe_pull_through_cache_rules")

# UpdatePullThroughCacheRule
expect(X.InvalidParameterException, ecr.update_pull_through_cache_rule, ecrRepositoryPrefix="hub")
expect(X.PullThroughCacheRuleNotFoundException, ecr.update_pull_through_cache_rule, ecrRepositoryPrefix="nope", credentialArn=SECRET)
expect(X.SecretNotFoundException, ecr.update_pull_through_cache_rule, ecrRepositoryPrefix="hub", credentialArn=MISSING)
updated = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="hub", credentialArn=SECRET)
assert updated["credentialArn"] == SECRET and "updatedAt" in updated, updated
step("update_pull_through_cache_rule")

# ValidatePullThroughCacheRule
valid = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="self")
assert valid["isValid"] is True, valid
expect(X.PullThroughCacheRuleNotFoundException, ecr.validate_pull_through_cache_rule, ecrRepositoryPrefix="nope")
step("validate_pull_through_cache_rule")

# DeletePullThroughCacheRule
for prefix in ["hub", "k8s", "self"]:
    gone = ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
    assert gone["ecrRepositoryPrefix"] == prefix, gone
expect(X.PullThroughCacheRuleNotFoundException, ecr.delete_pull_through_cache_rule, ecrRepositoryPrefix="hub")
assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
step("delete_pull_through_cache_rule")

step("done")
