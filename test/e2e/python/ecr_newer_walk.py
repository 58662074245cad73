#!/usr/bin/env python3
"""Drives the ECR operations that Debian's boto3 does not know with the image's newer boto3 (python3 on PATH, 1.43):
ListImageReferrers, the repository creation template operations and the pull time update exclusion operations,
asserting each answer and each exception by its boto3 class (botocore builds it from the wire's `__type`).

Environment: BERTH_URL, BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY, BERTH_PREFIX (unique name prefix).
Prints one JSON line per passed step ({"step": ...}) and exits 0 only if every step passed.
Reference: the ECR API reference and the botocore service model (data/ecr/2015-09-21/service-2.json).
"""
import hashlib
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
PREFIX = os.environ["BERTH_PREFIX"]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"


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


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(repo, data):
    up = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=up, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data)
    ecr.complete_layer_upload(repositoryName=repo, uploadId=up, layerDigests=[digest(data)])


step("versions")

# ListImageReferrers
repo = f"{PREFIX}/referrers"
ecr.create_repository(repositoryName=repo)
upload(repo, b"{}")
empty = {"mediaType": EMPTY, "digest": digest(b"{}"), "size": 2}
subject_text = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": empty, "layers": [empty]})
ecr.put_image(repositoryName=repo, imageManifest=subject_text, imageManifestMediaType=OCI_MANIFEST, imageTag="v1")
subject = {"mediaType": OCI_MANIFEST, "digest": digest(subject_text.encode()), "size": len(subject_text.encode())}
referrers = []
for i in range(3):
    text = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.example.sbom",
                       "config": empty, "layers": [empty], "subject": subject, "annotations": {"n": str(i)}})
    ecr.put_image(repositoryName=repo, imageManifest=text, imageManifestMediaType=OCI_MANIFEST, imageDigest=digest(text.encode()))
    referrers.append(digest(text.encode()))
got, token = [], None
while True:
    page = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject["digest"]}, maxResults=2,
                                    **({"nextToken": token} if token else {}))
    got += page["referrers"]
    token = page.get("nextToken")
    if not token:
        break
assert sorted(r["digest"] for r in got) == sorted(referrers), got
assert all(r["artifactType"] == "application/vnd.example.sbom" and r["artifactStatus"] == "ACTIVE" for r in got), got
expect(X.RepositoryNotFoundException, ecr.list_image_referrers, repositoryName=f"{PREFIX}/missing", subjectId={"imageDigest": subject["digest"]})
step("list_image_referrers")

# Repository creation templates
prefix = f"{PREFIX}/tpl"
t = ecr.create_repository_creation_template(prefix=prefix, appliedFor=["CREATE_ON_PUSH"], imageTagMutability="IMMUTABLE",
                                            resourceTags=[{"Key": "k", "Value": "v"}])["repositoryCreationTemplate"]
assert t["prefix"] == prefix and t["imageTagMutability"] == "IMMUTABLE" and t["appliedFor"] == ["CREATE_ON_PUSH"], t
expect(X.TemplateAlreadyExistsException, ecr.create_repository_creation_template, prefix=prefix, appliedFor=["REPLICATION"])
described = ecr.describe_repository_creation_templates(prefixes=[prefix])["repositoryCreationTemplates"]
assert [d["prefix"] for d in described] == [prefix], described
u = ecr.update_repository_creation_template(prefix=prefix, description="updated")["repositoryCreationTemplate"]
assert u["description"] == "updated" and u["imageTagMutability"] == "IMMUTABLE", u
expect(X.TemplateNotFoundException, ecr.update_repository_creation_template, prefix=f"{PREFIX}/none", description="x")
d = ecr.delete_repository_creation_template(prefix=prefix)["repositoryCreationTemplate"]
assert d["prefix"] == prefix, d
expect(X.TemplateNotFoundException, ecr.delete_repository_creation_template, prefix=prefix)
step("repository creation templates")

# Pull time update exclusions
account = ecr.describe_registry()["registryId"]
arn = f"arn:aws:iam::{account}:role/{PREFIX.replace('/', '-')}-scanner"
r = ecr.register_pull_time_update_exclusion(principalArn=arn)
assert r["principalArn"] == arn and "createdAt" in r, r
expect(X.ExclusionAlreadyExistsException, ecr.register_pull_time_update_exclusion, principalArn=arn)
assert arn in ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"]
assert ecr.deregister_pull_time_update_exclusion(principalArn=arn)["principalArn"] == arn
expect(X.ExclusionNotFoundException, ecr.deregister_pull_time_update_exclusion, principalArn=arn)
step("pull time update exclusions")

step("done")
