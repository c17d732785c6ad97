"""Storage classes: every class AWS accepts on PUT, copy and multipart; reported by HEAD/GET,
listings and versions; changed by copy-in-place; GLACIER/DEEP_ARCHIVE data in the archive tier
(GET 403 InvalidObjectState until a restore completes on the region clock); RestoreObject's
answers; GLACIER_IR readable at once; the storage report with billable bytes per class."""
import glob
import json
import os
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

CLASSES = ["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
           "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]


def advance(nimbus, spec):
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/clock",
                                 data=json.dumps({"advance": spec}).encode(), method="POST")
    urllib.request.urlopen(req).read()


def wait_for(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def report(nimbus, bucket=None):
    url = nimbus.endpoint + "/_nimbus/s3/storage-report" + ("?bucket=" + bucket if bucket else "")
    return json.loads(urllib.request.urlopen(url).read())


def test_every_class_on_put_head_list(s3, bucket):
    for c in CLASSES:
        s3.put_object(Bucket=bucket, Key="k-" + c, Body=b"x", StorageClass=c)
        h = s3.head_object(Bucket=bucket, Key="k-" + c)
        # AWS omits x-amz-storage-class for STANDARD
        assert h.get("StorageClass") == (None if c == "STANDARD" else c)
    listed = {o["Key"][2:]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {c: c for c in CLASSES}
    v1 = {o["Key"][2:]: o["StorageClass"] for o in s3.list_objects(Bucket=bucket)["Contents"]}
    assert v1 == listed
    vers = {o["Key"][2:]: o["StorageClass"] for o in s3.list_object_versions(Bucket=bucket)["Versions"]}
    assert vers == listed
    for bad in ["FROZEN", "OUTPOSTS", "standard"]:
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket, Key="bad", Body=b"x", StorageClass=bad)
        assert err(e) == (400, "InvalidStorageClass")


def test_get_reports_class_and_glacier_ir_readable(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ia", Body=b"data", StorageClass="STANDARD_IA")
    g = s3.get_object(Bucket=bucket, Key="ia")
    assert g["StorageClass"] == "STANDARD_IA" and g["Body"].read() == b"data"
    s3.put_object(Bucket=bucket, Key="ir", Body=b"instant", StorageClass="GLACIER_IR")
    assert s3.get_object(Bucket=bucket, Key="ir")["Body"].read() == b"instant"
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="ir", RestoreRequest={"Days": 1})
    assert err(e) == (403, "InvalidObjectState")


def test_copy_in_place_changes_class(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                   StorageClass="ONEZONE_IA")
    assert s3.head_object(Bucket=bucket, Key="k")["StorageClass"] == "ONEZONE_IA"
    # a copy does not inherit the source's class: STANDARD unless asked (as AWS documents)
    s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"})
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="k2")
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                   StorageClass="STANDARD")
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="k")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"abc"


def test_multipart_class(s3, bucket):
    u = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="DEEP_ARCHIVE")["UploadId"]
    assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["StorageClass"] == "DEEP_ARCHIVE"
    p1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=u, PartNumber=1, Body=b"a" * (5 << 20))
    p2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=u, PartNumber=2, Body=b"b" * 100)
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=u, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert s3.head_object(Bucket=bucket, Key="mp")["StorageClass"] == "DEEP_ARCHIVE"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="mp")
    assert err(e) == (403, "InvalidObjectState")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="mp",
                          RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert err(e) == (400, "InvalidArgument")


def test_archive_tier_and_restore(nimbus, s3, bucket):
    body = os.urandom(1000) * 300  # compressible
    s3.put_object(Bucket=bucket, Key="g", Body=body, StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="small", Body=b"tiny", StorageClass="GLACIER")
    archive = os.path.join(nimbus.data_dir, "s3", "archive")
    assert wait_for(lambda: len(glob.glob(archive + "/*/*")) == 2)
    # compressed in the archive tier, and no content file left in the hot tier
    sizes = sorted(os.path.getsize(f) for f in glob.glob(archive + "/*/*"))
    assert sizes[1] < len(body) // 10
    assert wait_for(lambda: not [f for f in glob.glob(os.path.join(nimbus.data_dir, "s3", "blobs", "*", "*"))])
    for k in ("g", "small"):
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=bucket, Key=k)
        assert err(e) == (403, "InvalidObjectState")
        assert e.value.response["Error"].get("StorageClass") == "GLACIER"
        assert "Restore" not in s3.head_object(Bucket=bucket, Key=k)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "g"})
    assert err(e) == (403, "InvalidObjectState")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="g", RestoreRequest={"Days": 0})
    assert err(e)[0] == 400
    r = s3.restore_object(Bucket=bucket, Key="g",
                          RestoreRequest={"Days": 3, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    s3.restore_object(Bucket=bucket, Key="small", RestoreRequest={"Days": 1, "Tier": "Bulk"})
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="g", RestoreRequest={"Days": 3})
    assert err(e) == (409, "RestoreAlreadyInProgress")
    assert s3.head_object(Bucket=bucket, Key="g")["Restore"] == 'ongoing-request="true"'
    advance(nimbus, "4m")
    time.sleep(0.2)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="g")
    assert err(e) == (403, "InvalidObjectState")
    advance(nimbus, "2m")  # Expedited: 1-5 minutes
    g = s3.get_object(Bucket=bucket, Key="g")
    assert g["Body"].read() == body and g["StorageClass"] == "GLACIER"
    assert g["Restore"].startswith('ongoing-request="false", expiry-date="')
    # a readable copy: RestoreObject again is 200 and moves the expiry
    before = s3.head_object(Bucket=bucket, Key="g")["Restore"]
    r = s3.restore_object(Bucket=bucket, Key="g", RestoreRequest={"Days": 10})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_object(Bucket=bucket, Key="g")["Restore"] != before
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "g"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    # Bulk (5-12 hours) for the small one
    advance(nimbus, "6h")
    time.sleep(0.2)
    assert s3.head_object(Bucket=bucket, Key="small")["Restore"] == 'ongoing-request="true"'
    advance(nimbus, "7h")
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == b"tiny"
    # expiry: the copies go, the archive stays
    advance(nimbus, "12d")
    assert wait_for(lambda: "Restore" not in s3.head_object(Bucket=bucket, Key="g"))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="g")
    assert err(e) == (403, "InvalidObjectState")
    # deleting the object removes its archive file
    s3.delete_object(Bucket=bucket, Key="g")
    s3.delete_object(Bucket=bucket, Key="small")
    s3.put_object(Bucket=bucket, Key="kick", Body=b"x", StorageClass="GLACIER")  # wakes the worker
    assert wait_for(lambda: len(glob.glob(archive + "/*/*")) == 1)


def test_deep_archive_delays(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"deep", StorageClass="DEEP_ARCHIVE")
    s3.restore_object(Bucket=bucket, Key="d", RestoreRequest={"Days": 1})  # Standard: 12 h
    advance(nimbus, "11h")
    time.sleep(0.2)
    assert s3.head_object(Bucket=bucket, Key="d")["Restore"] == 'ongoing-request="true"'
    advance(nimbus, "2h")
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"deep"


def test_storage_report(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="ia-small", Body=b"x" * 1000, StorageClass="STANDARD_IA")
    s3.put_object(Bucket=bucket, Key="ia-big", Body=b"x" * 200000, StorageClass="STANDARD_IA")
    s3.put_object(Bucket=bucket, Key="std", Body=b"x" * 10)
    s3.put_object(Bucket=bucket, Key="gl", Body=b"x" * 10, StorageClass="GLACIER")
    r = report(nimbus, bucket)
    ia = r["classes"]["STANDARD_IA"]
    assert ia["objects"] == 2 and ia["bytes"] == 201000
    assert ia["billable_bytes"] == 128 * 1024 + 200000  # 128 KiB minimum object size
    assert ia["min_storage_days"] == 30
    assert r["classes"]["STANDARD"]["billable_bytes"] == 10
    assert r["classes"]["GLACIER"]["billable_bytes"] == 10 + 40 * 1024
    assert r["classes"]["GLACIER"]["min_storage_days"] == 90
    # deleted 10 days in: 20 days of the 30-day minimum are billed for the small IA object
    advance(nimbus, "10d")
    s3.delete_object(Bucket=bucket, Key="ia-small")
    ed = report(nimbus, bucket)["classes"]["STANDARD_IA"]["early_deletion"]
    assert ed["objects"] == 1
    assert abs(ed["billable_byte_days"] - 128 * 1024 * 20) < 128 * 1024 * 0.01
