#!/usr/bin/python3
"""Drives Berth's ECR API with boto3 (Debian python3-boto3), as an ECR user's script would.

Usage: ecr_walk.py SECTION   (repositories | images | auth)
Environment: BERTH_URL, BERTH_ACCESS_KEY_ID, BERTH_SECRET_ACCESS_KEY, BERTH_HOST, BERTH_PREFIX (unique name prefix).

Each check is an assert; the script prints one JSON line per passed step ({"step": ...}) and exits 0 only if every
step passed. Exceptions are caught by their boto3 classes (client.exceptions.RepositoryNotFoundException, ...), which
botocore builds from the `__type` of the AWS JSON error: a wrong name on the wire cannot pass.
Reference: the ECR API reference and the botocore service model (data/ecr/2015-09-21/service-2.json).
"""
import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request
import uuid

import boto3
import botocore
from botocore.config import Config

URL = os.environ["BERTH_URL"]
KEY = os.environ["BERTH_ACCESS_KEY_ID"]
SECRET = os.environ["BERTH_SECRET_ACCESS_KEY"]
HOST = os.environ["BERTH_HOST"]
PREFIX = os.environ["BERTH_PREFIX"]

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def client(key=KEY, secret=SECRET):
    return boto3.client(
        "ecr",
        endpoint_url=URL,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


ecr = client()
X = ecr.exceptions


def step(name, **details):
    print(json.dumps({"step": name, **details}), flush=True)


def expect(exc_class, fn, **kwargs):
    """Calls fn(**kwargs), which must raise exc_class (HTTP 400 unless it is a ServerException); returns the error."""
    try:
        result = fn(**kwargs)
    except exc_class as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        assert e.response["Error"]["Code"] == exc_class.__name__, e.response
        return e
    except botocore.exceptions.ClientError as e:
        raise AssertionError(f"expected {exc_class.__name__}, got {e.response['Error']['Code']}: {e}") from e
    raise AssertionError(f"expected {exc_class.__name__}, got success: {result}")


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0), digest(raw)


def image(label):
    """A Docker schema 2 image with one layer: (config bytes, layer bytes, manifest text, manifest digest)."""
    blob, diff_id = layer({"data/" + label + ".txt": (label + " " + uuid.uuid4().hex).encode()})
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {"Labels": {"label": label, "n": uuid.uuid4().hex}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": digest(config)},
        "layers": [{"mediaType": DOCKER_LAYER, "size": len(blob), "digest": digest(blob)}],
    })
    return config, blob, manifest, digest(manifest.encode())


def upload(repo, data, part_size=None):
    init = ecr.initiate_layer_upload(repositoryName=repo)
    upload_id = init["uploadId"]
    assert init["partSize"] > 0, init
    size = part_size or len(data)
    for first in range(0, len(data), size):
        part = data[first:first + size]
        r = ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=first,
                                  partLastByte=first + len(part) - 1, layerPartBlob=part)
        assert r["lastByteReceived"] == first + len(part) - 1, r
        assert r["uploadId"] == upload_id, r
    done = ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[digest(data)])
    assert done["layerDigest"] == digest(data), done
    return upload_id


def repositories():
    registry = ecr.describe_registry()
    account = registry["registryId"]
    assert len(account) == 12 and account.isdigit(), registry
    step("describe_registry", registryId=account)

    name = PREFIX + "/repo"
    r = ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE",
                              imageScanningConfiguration={"scanOnPush": True},
                              tags=[{"Key": "team", "Value": "py"}])["repository"]
    assert r["repositoryName"] == name, r
    assert r["registryId"] == account, r
    assert r["repositoryArn"] == f"arn:aws:ecr:us-east-1:{account}:repository/{name}", r
    assert r["repositoryUri"] == f"{HOST}/{name}", r
    assert r["imageTagMutability"] == "IMMUTABLE", r
    assert r["imageScanningConfiguration"] == {"scanOnPush": True}, r
    assert r["encryptionConfiguration"] == {"encryptionType": "AES256"}, r
    assert isinstance(r["createdAt"], datetime.datetime), r
    step("create_repository")

    e = expect(X.RepositoryAlreadyExistsException, ecr.create_repository, repositoryName=name)
    assert e.response["Error"]["Message"] == f"The repository with name '{name}' already exists in the registry with id '{account}'", e
    expect(X.InvalidParameterException, ecr.create_repository, repositoryName="Upper/Case")
    expect(X.KmsException, ecr.create_repository, repositoryName=PREFIX + "/kms", encryptionConfiguration={"encryptionType": "KMS"})
    step("create_repository errors")

    d = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    assert [x["repositoryName"] for x in d] == [name], d
    missing = PREFIX + "/missing"
    e = expect(X.RepositoryNotFoundException, ecr.describe_repositories, repositoryNames=[missing])
    assert e.response["Error"]["Message"] == f"The repository with name '{missing}' does not exist in the registry with id '{account}'", e
    step("describe_repositories")

    for i in range(5):
        ecr.create_repository(repositoryName=f"{PREFIX}/page{i}")
    seen = []
    pages = 0
    for page in ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}):
        pages += 1
        assert len(page["repositories"]) <= 2, page
        seen += [x["repositoryName"] for x in page["repositories"]]
    assert len(seen) == len(set(seen)), seen
    for i in range(5):
        assert f"{PREFIX}/page{i}" in seen, seen
    assert pages == (len(seen) + 1) // 2 and len(seen) >= 6, (pages, seen)
    step("describe_repositories paginator", pages=pages)

    arn = r["repositoryArn"]
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "test"}])
    tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags == {"team": "py", "env": "test"}, tags
    ecr.untag_resource(resourceArn=arn, tagKeys=["team"])
    tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags == {"env": "test"}, tags
    step("tags")

    m = ecr.put_image_tag_mutability(repositoryName=name, imageTagMutability="MUTABLE")
    assert m["imageTagMutability"] == "MUTABLE", m
    s = ecr.put_image_scanning_configuration(repositoryName=name, imageScanningConfiguration={"scanOnPush": False})
    assert s["imageScanningConfiguration"] == {"scanOnPush": False}, s
    expect(X.RepositoryNotFoundException, ecr.put_image_tag_mutability, repositoryName=missing, imageTagMutability="MUTABLE")
    step("put_image_tag_mutability and scanning")

    deleted = ecr.delete_repository(repositoryName=name)["repository"]
    assert deleted["repositoryName"] == name, deleted
    expect(X.RepositoryNotFoundException, ecr.delete_repository, repositoryName=name)
    step("delete_repository")


def images():
    account = ecr.describe_registry()["registryId"]
    name = PREFIX + "/images"
    ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")

    config, blob, manifest, manifest_digest = image("one")
    # Small blobs go up in one part each (ECR wants every part but the last to be at least 5 MiB).
    upload(name, config)
    upload(name, blob)
    step("layer upload")

    init = ecr.initiate_layer_upload(repositoryName=name)
    ecr.upload_layer_part(repositoryName=name, uploadId=init["uploadId"], partFirstByte=0, partLastByte=9, layerPartBlob=b"0123456789")
    expect(X.InvalidLayerPartException, ecr.upload_layer_part, repositoryName=name, uploadId=init["uploadId"],
           partFirstByte=5, partLastByte=14, layerPartBlob=b"0123456789")
    expect(X.InvalidLayerException, ecr.complete_layer_upload, repositoryName=name, uploadId=init["uploadId"],
           layerDigests=[digest(b"something else")])
    empty = ecr.initiate_layer_upload(repositoryName=name)
    expect(X.EmptyUploadException, ecr.complete_layer_upload, repositoryName=name, uploadId=empty["uploadId"],
           layerDigests=[digest(b"")])
    expect(X.UploadNotFoundException, ecr.upload_layer_part, repositoryName=name, uploadId=str(uuid.uuid4()),
           partFirstByte=0, partLastByte=0, layerPartBlob=b"x")
    again = ecr.initiate_layer_upload(repositoryName=name)
    ecr.upload_layer_part(repositoryName=name, uploadId=again["uploadId"], partFirstByte=0, partLastByte=len(blob) - 1, layerPartBlob=blob)
    expect(X.LayerAlreadyExistsException, ecr.complete_layer_upload, repositoryName=name, uploadId=again["uploadId"],
           layerDigests=[digest(blob)])
    step("layer upload errors")

    avail = ecr.batch_check_layer_availability(repositoryName=name, layerDigests=[digest(blob), digest(config)])
    assert sorted(x["layerDigest"] for x in avail["layers"]) == sorted([digest(blob), digest(config)]), avail
    assert all(x["layerAvailability"] == "AVAILABLE" for x in avail["layers"]), avail
    assert {x["layerDigest"]: x["layerSize"] for x in avail["layers"]}[digest(blob)] == len(blob), avail
    step("batch_check_layer_availability")

    put = ecr.put_image(repositoryName=name, imageManifest=manifest, imageManifestMediaType=DOCKER_MANIFEST, imageTag="v1")["image"]
    assert put["imageId"] == {"imageDigest": manifest_digest, "imageTag": "v1"}, put
    assert put["imageManifest"] == manifest, put
    expect(X.ImageAlreadyExistsException, ecr.put_image, repositoryName=name, imageManifest=manifest, imageTag="v1")
    config2, blob2, manifest2, digest2 = image("two")
    upload(name, config2)
    upload(name, blob2)
    e = expect(X.ImageTagAlreadyExistsException, ecr.put_image, repositoryName=name, imageManifest=manifest2, imageTag="v1")
    assert e.response["Error"]["Message"] == (f"The image tag 'v1' already exists in the '{name}' repository and cannot be "
                                              "overwritten because the repository is immutable."), e
    expect(X.ImageDigestDoesNotMatchException, ecr.put_image, repositoryName=name, imageManifest=manifest2, imageTag="v2",
           imageDigest=digest(b"not the manifest"))
    ecr.put_image(repositoryName=name, imageManifest=manifest2, imageTag="v2")
    _, _, manifest3, _ = image("three")
    expect(X.LayersNotFoundException, ecr.put_image, repositoryName=name, imageManifest=manifest3, imageTag="v3")
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": DOCKER_MANIFEST, "size": 100, "digest": digest(b"no such child"), "platform": {"architecture": "amd64", "os": "linux"}},
    ]})
    expect(X.ReferencedImagesNotFoundException, ecr.put_image, repositoryName=name, imageManifest=index, imageTag="idx")
    step("put_image and its errors")

    url = ecr.get_download_url_for_layer(repositoryName=name, layerDigest=digest(blob))
    assert url["layerDigest"] == digest(blob), url
    with urllib.request.urlopen(url["downloadUrl"]) as res:  # no credentials: the URL is the credential
        assert res.status == 200
        assert res.read() == blob
    expect(X.LayersNotFoundException, ecr.get_download_url_for_layer, repositoryName=name, layerDigest=digest(b"nothing"))
    step("get_download_url_for_layer")

    ids = ecr.list_images(repositoryName=name)["imageIds"]
    assert sorted((i["imageDigest"], i.get("imageTag")) for i in ids) == sorted([(manifest_digest, "v1"), (digest2, "v2")]), ids
    assert ecr.list_images(repositoryName=name, filter={"tagStatus": "UNTAGGED"})["imageIds"] == []
    step("list_images")

    details = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "v1"}])["imageDetails"]
    assert len(details) == 1, details
    d = details[0]
    assert d["imageDigest"] == manifest_digest, d
    assert d["imageTags"] == ["v1"], d
    assert d["imageSizeInBytes"] == len(blob), d
    assert d["imageManifestMediaType"] == DOCKER_MANIFEST, d
    assert d["artifactMediaType"] == DOCKER_CONFIG, d
    assert isinstance(d["imagePushedAt"], datetime.datetime), d
    expect(X.ImageNotFoundException, ecr.describe_images, repositoryName=name, imageIds=[{"imageTag": "nope"}])
    step("describe_images")

    got = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}],
                              acceptedMediaTypes=[DOCKER_MANIFEST])
    assert [i["imageManifest"] for i in got["images"]] == [manifest], got
    assert [(f["imageId"], f["failureCode"]) for f in got["failures"]] == [({"imageTag": "nope"}, "ImageNotFound")], got
    step("batch_get_image")

    gone = ecr.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}])
    assert gone["imageIds"] == [{"imageDigest": manifest_digest, "imageTag": "v1"}], gone
    assert [f["failureCode"] for f in gone["failures"]] == ["ImageNotFound"], gone
    ids = ecr.list_images(repositoryName=name)["imageIds"]
    assert ids == [{"imageDigest": digest2, "imageTag": "v2"}], ("the last tag went, and the image with it", ids)
    step("batch_delete_image")

    e = expect(X.RepositoryNotEmptyException, ecr.delete_repository, repositoryName=name)
    assert e.response["Error"]["Message"] == (f"The repository with name '{name}' in registry with id '{account}' "
                                              "cannot be deleted because it still contains images"), e
    ecr.delete_repository(repositoryName=name, force=True)
    expect(X.RepositoryNotFoundException, ecr.describe_images, repositoryName=name)
    step("delete_repository force")


def auth():
    data = ecr.get_authorization_token()["authorizationData"]
    assert len(data) == 1, data
    user, _, password = base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and password, data
    ahead = data[0]["expiresAt"] - datetime.datetime.now(datetime.timezone.utc)
    assert abs(ahead - datetime.timedelta(hours=12)) < datetime.timedelta(minutes=5), ahead
    assert data[0]["proxyEndpoint"].split("://", 1)[-1].rstrip("/") == HOST, data
    req = urllib.request.Request(URL + "/v2/", headers={"Authorization": "Basic " + data[0]["authorizationToken"]})
    with urllib.request.urlopen(req) as res:
        assert res.status == 200
    step("get_authorization_token")

    def code(c):
        try:
            c.describe_repositories()
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        raise AssertionError("expected an error")

    assert code(client(secret=SECRET + "x")) == ("InvalidSignatureException", 400)
    assert code(client(key="AKIANOSUCHKEY0000000")) == ("UnrecognizedClientException", 400)
    step("sigv4 errors")


if __name__ == "__main__":
    section = sys.argv[1] if len(sys.argv) > 1 else ""
    sections = {"repositories": repositories, "images": images, "auth": auth}
    if section not in sections:
        sys.exit(f"usage: ecr_walk.py {'|'.join(sections)}")
    step("versions", boto3=boto3.__version__, botocore=botocore.__version__)
    sections[section]()
    step("done")
