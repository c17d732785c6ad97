"""S3 bucket configurations stored with AWS's checks: transfer acceleration (Enabled/Suspended,
InvalidRequest for bucket names with dots), Requester Pays (Payer; other accounts must send
x-amz-request-payer, and get x-amz-request-charged back), and the Id-keyed metrics, analytics,
inventory and intelligent-tiering configurations (Put/Get/Delete/List, Id rules,
NoSuchConfiguration, 100 per page with continuation tokens, at most 1,000 per bucket); all of
them survive a restart."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client
from s3util import bucket, err, s3  # noqa: F401 (fixtures)
from test_access import account_client, new_account


def new_bucket(s3, prefix="cf-"):
    name = prefix + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name


# ---------------------------------------------------------------- acceleration

def test_accelerate_configuration(s3, bucket):
    got = s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert "Status" not in got
    s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                           AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                           AccelerateConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                               AccelerateConfiguration={"Status": "On"})
    assert err(e) == (400, "MalformedXML")
    dotted = "cf." + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=dotted)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_accelerate_configuration(Bucket=dotted,
                                               AccelerateConfiguration={"Status": "Enabled"})
    assert err(e) == (400, "InvalidRequest")
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=dotted)


# ---------------------------------------------------------------- Requester Pays

def test_requester_pays(s3, nimbus, bucket):
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    other_acct = new_account(nimbus, "rp-%s@example.com" % uuid.uuid4().hex[:6])
    other = account_client(nimbus, other_acct)
    s3.put_object(Bucket=bucket, Key="k", Body=b"paid data")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % other_acct["AccountId"]},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]}]}))
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"paid data"

    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    # another account must acknowledge the charge
    with pytest.raises(ClientError) as e:
        other.get_object(Bucket=bucket, Key="k")
    assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        other.list_objects_v2(Bucket=bucket)
    assert err(e) == (403, "AccessDenied")
    got = other.get_object(Bucket=bucket, Key="k", RequestPayer="requester")
    assert got["Body"].read() == b"paid data"
    assert got["RequestCharged"] == "requester"
    listed = other.list_objects_v2(Bucket=bucket, RequestPayer="requester")
    assert [o["Key"] for o in listed["Contents"]] == ["k"]
    # the owner pays for its own requests: no header needed, none charged
    own = s3.get_object(Bucket=bucket, Key="k")
    assert own["Body"].read() == b"paid data" and "RequestCharged" not in own
    # back to the owner paying
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"paid data"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_request_payment(Bucket=bucket,
                                      RequestPaymentConfiguration={"Payer": "Nobody"})
    assert err(e) == (400, "MalformedXML")


def test_requester_pays_bucket_is_no_logging_target(s3, bucket):
    target = new_bucket(s3)
    s3.put_bucket_request_payment(Bucket=target,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    with pytest.raises(ClientError) as e:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "x/"}})
    assert err(e) == (400, "InvalidTargetBucketForLogging")


# ---------------------------------------------------------------- Id-keyed configurations

def metrics(i):
    return {"Id": i, "Filter": {"Prefix": "docs/"}}


def analytics(i):
    return {"Id": i, "Filter": {"Tag": {"Key": "team", "Value": "a"}},
            "StorageClassAnalysis": {"DataExport": {
                "OutputSchemaVersion": "V_1",
                "Destination": {"S3BucketDestination": {
                    "Format": "CSV", "Bucket": "arn:aws:s3:::reports-bucket", "Prefix": "an/"}}}}}


def inventory(i):
    return {"Id": i, "IsEnabled": True, "IncludedObjectVersions": "Current",
            "Schedule": {"Frequency": "Daily"},
            "Destination": {"S3BucketDestination": {
                "Bucket": "arn:aws:s3:::reports-bucket", "Format": "CSV", "Prefix": "inv"}},
            "OptionalFields": ["Size", "ETag", "StorageClass"],
            "Filter": {"Prefix": "data/"}}


def tiering(i):
    return {"Id": i, "Status": "Enabled",
            "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"},
                         {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}


KINDS = {
    "Metrics": metrics,
    "Analytics": analytics,
    "Inventory": inventory,
    "IntelligentTiering": tiering,
}


def ops(s3, kind):
    snake = {"Metrics": "metrics", "Analytics": "analytics", "Inventory": "inventory",
             "IntelligentTiering": "intelligent_tiering"}[kind]
    return (getattr(s3, "put_bucket_%s_configuration" % snake),
            getattr(s3, "get_bucket_%s_configuration" % snake),
            getattr(s3, "delete_bucket_%s_configuration" % snake),
            getattr(s3, "list_bucket_%s_configurations" % snake))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_id_configuration_lifecycle(s3, bucket, kind):
    put, get, delete, lst = ops(s3, kind)
    member = kind + "Configuration"
    listname = kind + "ConfigurationList"
    first = lst(Bucket=bucket)
    assert first["IsTruncated"] is False and listname not in first
    with pytest.raises(ClientError) as e:
        get(Bucket=bucket, Id="nope")
    assert err(e) == (404, "NoSuchConfiguration")
    with pytest.raises(ClientError) as e:
        delete(Bucket=bucket, Id="nope")
    assert err(e) == (404, "NoSuchConfiguration")
    conf = KINDS[kind]("cfg-1")
    put(Bucket=bucket, Id="cfg-1", **{member: conf})
    assert get(Bucket=bucket, Id="cfg-1")[member] == conf
    put(Bucket=bucket, Id="cfg-0", **{member: KINDS[kind]("cfg-0")})
    assert [c["Id"] for c in lst(Bucket=bucket)[listname]] == ["cfg-0", "cfg-1"]
    # a Put replaces the configuration of its Id
    conf2 = KINDS[kind]("cfg-1")
    if kind == "Metrics":
        conf2["Filter"] = {"Prefix": "other/"}
    elif kind == "IntelligentTiering":
        conf2["Status"] = "Disabled"
    elif kind == "Inventory":
        conf2["IsEnabled"] = False
    else:
        conf2["Filter"] = {"Prefix": "x/"}
    put(Bucket=bucket, Id="cfg-1", **{member: conf2})
    assert get(Bucket=bucket, Id="cfg-1")[member] == conf2
    assert len(lst(Bucket=bucket)[listname]) == 2
    # Id rules
    for bad in ["has space", "x" * 65, "sl/ash"]:
        with pytest.raises(ClientError) as e:
            put(Bucket=bucket, Id=bad, **{member: KINDS[kind](bad)})
        assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        put(Bucket=bucket, Id="query-id", **{member: KINDS[kind]("body-id")})
    assert err(e) == (400, "InvalidArgument")
    assert delete(Bucket=bucket, Id="cfg-0")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        get(Bucket=bucket, Id="cfg-0")
    assert err(e) == (404, "NoSuchConfiguration")
    assert [c["Id"] for c in lst(Bucket=bucket)[listname]] == ["cfg-1"]
    with pytest.raises(ClientError) as e:
        lst(Bucket="no-such-" + uuid.uuid4().hex[:8])
    assert err(e) == (404, "NoSuchBucket")


def test_list_pages_with_continuation_tokens(s3, bucket):
    ids = ["m-%03d" % i for i in range(230)]
    for i in reversed(ids):
        s3.put_bucket_metrics_configuration(Bucket=bucket, Id=i,
                                            MetricsConfiguration={"Id": i})
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_bucket_metrics_configurations(Bucket=bucket, **kw)
        pages += 1
        got = [c["Id"] for c in page["MetricsConfigurationList"]]
        assert len(got) <= 100
        seen += got
        if token:
            assert page["ContinuationToken"] == token
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        token = page["NextContinuationToken"]
    assert seen == ids and pages == 3
    with pytest.raises(ClientError) as e:
        s3.list_bucket_metrics_configurations(Bucket=bucket, ContinuationToken="!!not-a-token")
    assert err(e) == (400, "InvalidArgument")


def test_at_most_1000_configurations(s3, bucket):
    # concurrent Puts: none is lost (each one reads and writes the kind's document in one job)
    from concurrent.futures import ThreadPoolExecutor

    def put(i):
        s3.put_bucket_analytics_configuration(
            Bucket=bucket, Id="a%04d" % i,
            AnalyticsConfiguration={"Id": "a%04d" % i, "StorageClassAnalysis": {}})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(1000)))
    with pytest.raises(ClientError) as e:
        s3.put_bucket_analytics_configuration(
            Bucket=bucket, Id="one-more",
            AnalyticsConfiguration={"Id": "one-more", "StorageClassAnalysis": {}})
    assert err(e) == (400, "TooManyConfigurations")
    # replacing an existing one is not a new one
    s3.put_bucket_analytics_configuration(
        Bucket=bucket, Id="a0000",
        AnalyticsConfiguration={"Id": "a0000", "StorageClassAnalysis": {},
                                "Filter": {"Prefix": "p/"}})
    # other kinds count on their own
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="m", MetricsConfiguration={"Id": "m"})
    ids, token = [], None
    while True:
        page = s3.list_bucket_analytics_configurations(
            Bucket=bucket, **({"ContinuationToken": token} if token else {}))
        ids += [c["Id"] for c in page["AnalyticsConfigurationList"]]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert ids == ["a%04d" % i for i in range(1000)]


def test_configuration_validation(s3, bucket):
    inv = inventory("i")
    inv["Destination"]["S3BucketDestination"]["Format"] = "JSON"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_inventory_configuration(Bucket=bucket, Id="i", InventoryConfiguration=inv)
    assert err(e) == (400, "MalformedXML")
    inv = inventory("i")
    inv["Destination"]["S3BucketDestination"]["Bucket"] = "reports-bucket"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_inventory_configuration(Bucket=bucket, Id="i", InventoryConfiguration=inv)
    assert err(e) == (400, "InvalidArgument")
    inv = inventory("i")
    inv["OptionalFields"] = ["Size", "Colour"]
    with pytest.raises(ClientError) as e:
        s3.put_bucket_inventory_configuration(Bucket=bucket, Id="i", InventoryConfiguration=inv)
    assert err(e) == (400, "MalformedXML")
    it = tiering("t")
    it["Tierings"] = [{"Days": 30, "AccessTier": "ARCHIVE_ACCESS"}]
    with pytest.raises(ClientError) as e:
        s3.put_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id="t", IntelligentTieringConfiguration=it)
    assert err(e) == (400, "InvalidArgument")
    an = analytics("a")
    an["StorageClassAnalysis"]["DataExport"]["OutputSchemaVersion"] = "V_2"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_analytics_configuration(Bucket=bucket, Id="a", AnalyticsConfiguration=an)
    assert err(e) == (400, "MalformedXML")
    # none of the refused ones was stored
    assert "InventoryConfigurationList" not in s3.list_bucket_inventory_configurations(Bucket=bucket)


def test_configurations_survive_restart(nimbus_factory):
    srv = nimbus_factory()
    s3c = client(srv, "s3")
    b = new_bucket(s3c)
    for kind, make in KINDS.items():
        put = ops(s3c, kind)[0]
        put(Bucket=b, Id="keep", **{kind + "Configuration": make("keep")})
    s3c.put_bucket_accelerate_configuration(Bucket=b, AccelerateConfiguration={"Status": "Enabled"})
    s3c.put_bucket_request_payment(Bucket=b, RequestPaymentConfiguration={"Payer": "Requester"})
    srv.stop()
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    s3c = client(srv2, "s3")
    for kind, make in KINDS.items():
        get = ops(s3c, kind)[1]
        assert get(Bucket=b, Id="keep")[kind + "Configuration"] == make("keep")
    assert s3c.get_bucket_accelerate_configuration(Bucket=b)["Status"] == "Enabled"
    assert s3c.get_bucket_request_payment(Bucket=b)["Payer"] == "Requester"
    # deleting the bucket drops its configurations with it
    s3c.delete_bucket(Bucket=b)
    s3c.create_bucket(Bucket=b)
    assert "MetricsConfigurationList" not in s3c.list_bucket_metrics_configurations(Bucket=b)
    assert s3c.get_bucket_request_payment(Bucket=b)["Payer"] == "BucketOwner"


# ---------------------------------------------------------------- inventory reports

def run_inventory(server, **q):
    import urllib.parse
    import urllib.request
    url = server.endpoint + "/_nimbus/s3/inventory/run"
    if q:
        url += "?" + urllib.parse.urlencode(q)
    with urllib.request.urlopen(urllib.request.Request(url, method="POST")) as r:
        return json.loads(r.read())["reports"]


def read_report(s3, dest, prefix):
    """(manifest, rows) of the one report under prefix: manifest.checksum is the MD5 of
    manifest.json, which names the gzip CSV data file with its size and MD5."""
    import csv
    import gzip
    import hashlib
    import io
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=dest, Prefix=prefix).get("Contents", [])]
    mkey = [k for k in keys if k.endswith("/manifest.json")]
    assert len(mkey) == 1, keys
    raw = s3.get_object(Bucket=dest, Key=mkey[0])["Body"].read()
    check = s3.get_object(Bucket=dest, Key=mkey[0][:-len("json")] + "checksum")["Body"].read()
    assert check.decode() == hashlib.md5(raw).hexdigest()
    manifest = json.loads(raw)
    [f] = manifest["files"]
    assert f["key"] in keys and f["key"].endswith(".csv.gz")
    body = s3.get_object(Bucket=dest, Key=f["key"])["Body"].read()
    assert len(body) == f["size"] and hashlib.md5(body).hexdigest() == f["MD5checksum"]
    rows = list(csv.reader(io.StringIO(gzip.decompress(body).decode())))
    link = [k for k in keys if "/hive/dt=" in k and k.endswith("/symlink.txt")]
    assert len(link) == 1
    assert s3.get_object(Bucket=dest, Key=link[0])["Body"].read().decode().strip() == \
        "s3://%s/%s" % (dest, f["key"])
    return manifest, rows


def test_inventory_report_current_versions(s3, nimbus, bucket):
    dest = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="data/a b.txt", Body=b"12345")
    s3.put_object(Bucket=bucket, Key="data/c", Body=b"x" * 70000)
    s3.put_object(Bucket=bucket, Key="other/d", Body=b"no")
    conf = inventory("daily")
    conf["Destination"]["S3BucketDestination"]["Bucket"] = "arn:aws:s3:::" + dest
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="daily", InventoryConfiguration=conf)
    out = run_inventory(nimbus, bucket=bucket)
    assert [(r["id"], r["status"], r["rows"]) for r in out] == [("daily", "delivered", 2)]
    manifest, rows = read_report(s3, dest, "inv/%s/daily/" % bucket)
    assert manifest["sourceBucket"] == bucket
    assert manifest["destinationBucket"] == "arn:aws:s3:::" + dest
    assert manifest["fileFormat"] == "CSV" and manifest["version"] == "2016-11-30"
    assert manifest["fileSchema"] == "Bucket, Key, Size, ETag, StorageClass"
    etag_c = s3.head_object(Bucket=bucket, Key="data/c")["ETag"].strip('"')
    assert rows == [
        [bucket, "data/a%20b.txt", "5", "827ccb0eea8a706c4c34a16891f84e7b", "STANDARD"],
        [bucket, "data/c", "70000", etag_c, "STANDARD"],
    ]


def test_inventory_report_all_versions_and_disabled(s3, nimbus, bucket):
    dest = new_bucket(s3)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two!")["VersionId"]
    dm = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    conf = {"Id": "all", "IsEnabled": True, "IncludedObjectVersions": "All",
            "Schedule": {"Frequency": "Weekly"},
            "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::" + dest,
                                                    "Format": "CSV"}},
            "OptionalFields": ["Size", "IsMultipartUploaded"]}
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="all", InventoryConfiguration=conf)
    off = dict(conf, Id="off", IsEnabled=False)
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="off", InventoryConfiguration=off)
    parquet = json.loads(json.dumps(conf))
    parquet["Id"] = "pq"
    parquet["Destination"]["S3BucketDestination"]["Format"] = "Parquet"
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="pq", InventoryConfiguration=parquet)
    out = {r["id"]: r["status"] for r in run_inventory(nimbus, bucket=bucket)}
    assert out["all"] == "delivered" and "off" not in out
    assert out["pq"].startswith("skipped")  # only CSV reports are produced
    manifest, rows = read_report(s3, dest, "%s/all/" % bucket)
    assert manifest["fileSchema"] == \
        "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, IsMultipartUploaded"
    assert rows == [
        [bucket, "k", dm, "true", "true", "", ""],
        [bucket, "k", v2, "false", "false", "4", "false"],
        [bucket, "k", v1, "false", "false", "3", "false"],
    ]
    assert s3.list_objects_v2(Bucket=dest, Prefix="%s/off/" % bucket)["KeyCount"] == 0
