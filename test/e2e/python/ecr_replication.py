#!/usr/bin/env python3
"""Drives the replication operations the image's newer boto3 (python3 on PATH, 1.43) knows: PutReplicationConfiguration,
DescribeRegistry and DescribeImageReplicationStatus, asserting each answer and each exception by its boto3 class.
(The backfill operations are newer than botocore's model: test/e2e/replication.test.ts drives them with the JS SDK.)

Environment: BERTH_URL, BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY, BERTH_REPOSITORY (an image pushed with tag v1
whose repository the rule below replicates), BERTH_DIGEST (its digest), BERTH_ACCOUNT (the registry id).
Prints one JSON line per passed step ({"step": ...}) and exits 0 only if every step passed.
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
DIGEST = os.environ["BERTH_DIGEST"]
ACCOUNT = os.environ["BERTH_ACCOUNT"]


def step(name):
    print(json.dumps({"step": name}), flush=True)


def expect(exc_class, fn, **kwargs):
    try:
        result = fn(**kwargs)
    except exc_class as e:
        assert e.response["Error"]["Code"] == exc_class.__name__, e.response
        return e
    raise AssertionError(f"expected {exc_class.__name__}, got {result}")


step("versions")
config = {"rules": [{"destinations": [{"region": "eu-west-1", "registryId": "333333333333"}],
                     "repositoryFilters": [{"filter": REPO.split("/")[0], "filterType": "PREFIX_MATCH"}]}]}
assert ecr.put_replication_configuration(replicationConfiguration=config)["replicationConfiguration"] == config
registry = ecr.describe_registry()
assert registry["registryId"] == ACCOUNT and registry["replicationConfiguration"] == config, registry
expect(X.InvalidParameterException, ecr.put_replication_configuration,
       replicationConfiguration={"rules": [{"destinations": [{"region": f"r-{i}", "registryId": "333333333333"}]} for i in range(11)]})
expect(X.InvalidParameterException, ecr.put_replication_configuration,
       replicationConfiguration={"rules": [{"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}]}]})
assert ecr.describe_registry()["replicationConfiguration"] == config, "a refused configuration changes nothing"
step("put_replication_configuration")

# The image was pushed before the configuration: nothing replicated yet. A push of a new tag starts its replication.
status = ecr.describe_image_replication_status(repositoryName=REPO, imageId={"imageTag": "v1"})
assert status["repositoryName"] == REPO and status["imageId"]["imageDigest"] == DIGEST, status
assert status["replicationStatuses"] == [], status
manifest = ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])["images"][0]
ecr.put_image(repositoryName=REPO, imageManifest=manifest["imageManifest"], imageManifestMediaType=manifest["imageManifestMediaType"], imageTag="v2")
for _ in range(150):
    statuses = ecr.describe_image_replication_status(repositoryName=REPO, imageId={"imageDigest": DIGEST})["replicationStatuses"]
    if statuses and statuses[0]["status"] != "IN_PROGRESS":
        break
    time.sleep(0.2)
assert [(s["region"], s["registryId"], s["status"]) for s in statuses] == [("eu-west-1", "333333333333", "COMPLETE")], statuses
expect(X.ImageNotFoundException, ecr.describe_image_replication_status, repositoryName=REPO, imageId={"imageTag": "nope"})
expect(X.RepositoryNotFoundException, ecr.describe_image_replication_status, repositoryName=REPO + "-missing", imageId={"imageTag": "v1"})
step("describe_image_replication_status")
step("done")
