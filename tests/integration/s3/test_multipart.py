"""Multipart uploads: parts (streamed and copied), completion rules and ETag, listing,
abort, GET by part number, and no copying of parts at completion."""
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

MiB = 1024 * 1024


def mp_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def upload(s3, bucket, key, parts):
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i, Body=p)
        assert r["ETag"] == '"%s"' % hashlib.md5(p).hexdigest()
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return uid, done


def test_complete_and_read(s3, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 3), os.urandom(1234)]
    uid, done = upload(s3, bucket, "mp", parts)
    lp = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert [p["PartNumber"] for p in lp["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in lp["Parts"]] == [len(p) for p in parts]
    ups = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in ups] == [("mp", uid)]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    assert r["ETag"] == mp_etag(parts)
    whole = b"".join(parts)
    h = s3.head_object(Bucket=bucket, Key="mp")
    assert h["ContentLength"] == len(whole) and h["ETag"] == mp_etag(parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == whole
    g = s3.get_object(Bucket=bucket, Key="mp", Range="bytes=%d-%d" % (5 * MiB - 10, 5 * MiB + 10))
    assert g["Body"].read() == whole[5 * MiB - 10:5 * MiB + 11]
    g = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert g["Body"].read() == parts[1] and g["PartsCount"] == 3
    assert g["ContentRange"] == "bytes %d-%d/%d" % (5 * MiB, 10 * MiB + 2, len(whole))
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_completion_errors(s3, bucket):
    parts = [os.urandom(100), os.urandom(100)]
    uid, done = upload(s3, bucket, "small", parts)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    assert err(e) == (400, "EntityTooSmall")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                     MultipartUpload={"Parts": list(reversed(done))})
    assert err(e) == (400, "InvalidPartOrder")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]})
    assert err(e) == (400, "InvalidPart")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": done[0]["ETag"]}]})
    assert err(e) == (400, "InvalidPart")
    # a single small part is fine (the last part may be small)
    r = s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                     MultipartUpload={"Parts": done[:1]})
    assert r["ETag"] == mp_etag(parts[:1])
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == parts[0]


def test_abort_and_no_such_upload(s3, bucket):
    uid, _ = upload(s3, bucket, "ab", [b"x" * 10])
    s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=1, Body=b"y")
    assert err(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="ab", UploadId=uid)
    assert err(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid)
    assert err(e) == (404, "NoSuchUpload")


def test_part_number_bounds(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="pn")["UploadId"]
    for bad in (0, 10001):
        with pytest.raises(ClientError) as e:
            s3.upload_part(Bucket=bucket, Key="pn", UploadId=uid, PartNumber=bad, Body=b"x")
        assert err(e) == (400, "InvalidArgument")


def test_upload_part_copy(s3, bucket):
    src = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=0-5242879")
    r2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=5242880-6291455")
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="dst2", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "src"})
    assert err(e) == (404, "NoSuchUpload")


def test_list_uploads_prefix_delimiter(s3, bucket):
    for k in ("a/1", "a/2", "b", "c/d"):
        s3.create_multipart_upload(Bucket=bucket, Key=k)
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in r["Uploads"]] == ["b"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "c/"]
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert [u["Key"] for u in r["Uploads"]] == ["a/1", "a/2"]
    r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert r["IsTruncated"] and len(r["Uploads"]) == 2
    r2 = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=r["NextKeyMarker"],
                                   UploadIdMarker=r["NextUploadIdMarker"])
    assert [u["Key"] for u in r2["Uploads"]] == ["b", "c/d"]


def test_parts_are_not_copied(nimbus, s3, bucket):
    """Completion writes a manifest: the data directory does not grow by the object's size."""
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB)]
    uid, done = upload(s3, bucket, "nocopy", parts)

    def usage():
        total = 0
        for root, _, files in os.walk(os.path.join(nimbus.data_dir, "s3", "blobs")):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
        return total
    before = usage()
    s3.complete_multipart_upload(Bucket=bucket, Key="nocopy", UploadId=uid, MultipartUpload={"Parts": done})
    assert usage() == before
