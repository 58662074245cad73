#!/usr/bin/env python3
"""Drives the signing operations through the image's newer boto3 (python3 on PATH, 1.43): PutSigningConfiguration,
GetSigningConfiguration, DescribeImageSigningStatus and DeleteSigningConfiguration, asserting each answer and each
exception by its boto3 class. Two phases (argv[1]): "configure" puts and reads the configuration before the test
pushes; "follow" waits for the pushed image's signing to be COMPLETE, then deletes the configuration.

Environment: BERTH_URL, BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY, BERTH_PROFILE_ARN (a Berth signing profile),
BERTH_REPOSITORY, BERTH_DIGEST (follow: the image pushed). Prints one JSON line per passed step ({"step": ...}).
"""
import json
import os
import sys
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
ARN = os.environ["BERTH_PROFILE_ARN"]
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


if sys.argv[1] == "configure":
    expect(X.SigningConfigurationNotFoundException, ecr.get_signing_configuration)
    step("not_found")
    rules = [{"signingProfileArn": ARN, "repositoryFilters": [{"filter": REPO.split("/")[0] + "*", "filterType": "WILDCARD_MATCH"}]}]
    put = ecr.put_signing_configuration(signingConfiguration={"rules": rules})
    assert put["signingConfiguration"]["rules"] == rules, put
    got = ecr.get_signing_configuration()
    assert got["signingConfiguration"]["rules"] == rules and len(got["registryId"]) == 12, got
    step("put_get")
    expect(X.InvalidParameterException, ecr.put_signing_configuration,
           signingConfiguration={"rules": [{"signingProfileArn": ARN.rsplit("/", 1)[0] + "/nosuch"}]})
    step("unknown_profile")
else:
    digest = os.environ["BERTH_DIGEST"]
    deadline = time.time() + 60
    while True:
        statuses = ecr.describe_image_signing_status(repositoryName=REPO, imageId={"imageDigest": digest})["signingStatuses"]
        if statuses and all(s["status"] == "COMPLETE" for s in statuses):
            break
        assert time.time() < deadline, statuses
        time.sleep(0.25)
    assert [s["signingProfileArn"] for s in statuses] == [ARN], statuses
    step("complete")
    expect(X.ImageNotFoundException, ecr.describe_image_signing_status, repositoryName=REPO,
           imageId={"imageDigest": "sha256:" + "0" * 64})
    step("image_not_found")
    deleted = ecr.delete_signing_configuration()
    assert deleted["signingConfiguration"]["rules"][0]["signingProfileArn"] == ARN, deleted
    expect(X.SigningConfigurationNotFoundException, ecr.delete_signing_configuration)
    step("deleted")
step("done")
