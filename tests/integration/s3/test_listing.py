"""Listings: v1 markers, v2 continuation tokens, start-after, fetch-owner, prefixes, any
delimiter, max-keys, encoding-type=url, byte order."""
import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

KEYS = ["a", "b/1", "b/2", "b/3", "c", "d/x/1", "d/x/2", "d/y", "e", "Z", "a b", "\u00e9t\u00e9"]


@pytest.fixture
def filled(s3, bucket):
    for k in KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    return bucket


def test_byte_order(s3, filled):
    r = s3.list_objects_v2(Bucket=filled)
    assert [o["Key"] for o in r["Contents"]] == sorted(KEYS, key=lambda k: k.encode())
    assert r["KeyCount"] == len(KEYS) and not r["IsTruncated"]
    o = r["Contents"][0]
    assert o["Size"] == 1 and o["ETag"].startswith('"') and o["StorageClass"] == "STANDARD"
    assert "Owner" not in o
    assert "Owner" in s3.list_objects_v2(Bucket=filled, FetchOwner=True)["Contents"][0]


def test_delimiter(s3, filled):
    r = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["Z", "a", "a b", "c", "e", "\u00e9t\u00e9"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["b/", "d/"]
    r = s3.list_objects_v2(Bucket=filled, Delimiter="/", Prefix="d/")
    assert [o["Key"] for o in r["Contents"]] == ["d/y"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d/x/"]
    r = s3.list_objects_v2(Bucket=filled, Delimiter="/x/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d/x/"]


def test_v2_pagination(s3, filled):
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=filled, Delimiter="/", MaxKeys=3, **kw)
        seen += [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert sorted(seen) == sorted(["Z", "a", "a b", "c", "e", "\u00e9t\u00e9", "b/", "d/"])
    assert len(seen) == 8
    r = s3.list_objects_v2(Bucket=filled, StartAfter="c")
    assert [o["Key"] for o in r["Contents"]][0] == "d/x/1"
    assert r["StartAfter"] == "c"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=filled, ContinuationToken="!!!")
    assert err(e) == (400, "InvalidArgument")


def test_v1_markers(s3, filled):
    r = s3.list_objects(Bucket=filled, MaxKeys=2, Delimiter="/", Marker="a b")
    assert [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["b/", "c"] or \
        [o["Key"] for o in r.get("Contents", [])] == ["c"]
    assert r["IsTruncated"] and r["NextMarker"] == "c"
    keys = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=filled, PaginationConfig={"PageSize": 4}):
        keys += [o["Key"] for o in page["Contents"]]
    assert keys == sorted(KEYS, key=lambda k: k.encode())
    assert "Owner" in s3.list_objects(Bucket=filled)["Contents"][0]


def test_max_keys_zero_and_prefix_miss(s3, filled):
    r = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert r["KeyCount"] == 0 and "Contents" not in r
    r = s3.list_objects_v2(Bucket=filled, Prefix="zz")
    assert r["KeyCount"] == 0


def test_encoding_type_url(s3, filled):
    # asked explicitly, botocore leaves the keys encoded (it decodes only when it asked itself,
    # which every other listing here exercises)
    r = s3.list_objects_v2(Bucket=filled, EncodingType="url", Prefix="a")
    assert [o["Key"] for o in r["Contents"]] == ["a", "a+b"]
    r = s3.list_objects_v2(Bucket=filled, EncodingType="url", Prefix="\u00e9")
    assert [o["Key"] for o in r["Contents"]] == ["%C3%A9t%C3%A9"]
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=filled, EncodingType="base64")
    assert err(e) == (400, "InvalidArgument")


def test_paginator_v2_many(s3, bucket):
    for i in range(25):
        s3.put_object(Bucket=bucket, Key="k%03d" % i, Body=b"")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 7}):
        keys += [o["Key"] for o in page["Contents"]]
    assert keys == ["k%03d" % i for i in range(25)]
