"""s3cmd beyond basic use, with SigV4 and SigV2: ACLs (--acl-public/--acl-private, and AWS's
AccessControlListNotSupported on a bucket that enforces its owner), modify, bucket policy,
lifecycle (setlifecycle/getlifecycle/expire), CORS, website, requester pays, access logging,
multipart listings (multipart/listmp/abortmp), restore on the region clock, get --continue,
storage classes, --continue-put, fixbucket, event notifications, rb of a versioned bucket;
virtual-hosted-style addressing (the bucket in the host name, AWS's default) through a forward
proxy: put/sync/signurl/rb --recursive; and the aws CLI, s3cmd and rclone meeting a signature
for the wrong region under --strict-region."""
import hashlib
import json
import os
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from conftest import client
from toolutil import Aws, Rclone, S3cmd, advance_clock, anon_get, make_tree, need_tools, read_tree
from toolutil import vhost_proxy  # noqa: F401 (fixture)

pytestmark = need_tools
MiB = 1 << 20


def code_of(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"]


@pytest.mark.parametrize("sigv2", [False, True], ids=["v4", "v2"])
def test_s3cmd_bucket_configs_and_acls(nimbus, tmp_path, sigv2):
    s3 = client(nimbus, "s3")
    base = S3cmd(nimbus, tmp_path)
    sig = ["--signature-v2"] if sigv2 else []

    def s3cmd(*args, **kw):
        return base(*sig, *args, **kw)

    b = "cfg-v2" if sigv2 else "cfg-v4"
    # ACLs only count on a bucket that lets objects carry them, with no public access block
    s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=b)
    f = tmp_path / "f.txt"
    f.write_bytes(b"acl me\n")
    s3cmd("put", "--storage-class=STANDARD_IA", "--mime-type=text/x-mine", str(f),
          "s3://%s/f.txt" % b)
    h = s3.head_object(Bucket=b, Key="f.txt")
    assert h["StorageClass"] == "STANDARD_IA" and h["ContentType"] == "text/x-mine"
    url = "%s/%s/f.txt" % (nimbus.endpoint, b)
    assert anon_get(url)[0] == 403
    s3cmd("setacl", "--acl-public", "s3://%s/f.txt" % b)
    assert anon_get(url) == (200, b"acl me\n")
    assert "*anon*: READ" in s3cmd("info", "s3://%s/f.txt" % b).stdout
    s3cmd("setacl", "--acl-private", "s3://%s/f.txt" % b)
    assert anon_get(url)[0] == 403
    assert "*anon*" not in s3cmd("info", "s3://%s/f.txt" % b).stdout
    # the default bucket (BucketOwnerEnforced) refuses ACLs other than the owner's, as AWS does
    s3cmd("mb", "s3://%s-own" % b)
    s3cmd("put", str(f), "s3://%s-own/f.txt" % b)
    r = s3cmd("setacl", "--acl-public", "s3://%s-own/f.txt" % b, check=False)
    assert r.returncode != 0 and "AccessControlListNotSupported" in r.stderr

    # modify: metadata and type replaced in place, a header removed again
    s3cmd("modify", "--add-header=x-amz-meta-colour: blue", "--mime-type=text/html",
          "s3://%s/f.txt" % b)
    h = s3.head_object(Bucket=b, Key="f.txt")
    assert h["Metadata"]["colour"] == "blue" and h["ContentType"] == "text/html"
    assert h["ETag"] == '"%s"' % hashlib.md5(b"acl me\n").hexdigest()
    s3cmd("modify", "--remove-header=x-amz-meta-colour", "s3://%s/f.txt" % b)
    assert "colour" not in s3.head_object(Bucket=b, Key="f.txt")["Metadata"]

    # bucket policy: set, effective for an anonymous reader, shown by info, deleted
    pol = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::%s/*" % b}]}
    (tmp_path / "pol.json").write_text(json.dumps(pol))
    s3cmd("setpolicy", str(tmp_path / "pol.json"), "s3://" + b)
    assert json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]) == pol
    assert anon_get(url)[0] == 200
    assert "arn:aws:s3:::%s/*" % b in s3cmd("info", "s3://" + b).stdout
    s3cmd("delpolicy", "s3://" + b)
    assert code_of(s3.get_bucket_policy, Bucket=b) == "NoSuchBucketPolicy"
    assert anon_get(url)[0] == 403
    (tmp_path / "bad.json").write_text(json.dumps(dict(pol, Statement=[dict(
        pol["Statement"][0], Resource="arn:aws:s3:::other-bucket/*")])))
    r = s3cmd("setpolicy", str(tmp_path / "bad.json"), "s3://" + b, check=False)
    assert r.returncode != 0 and "MalformedPolicy" in r.stderr

    # lifecycle: a file's rules, read back; expire writes its own rule
    (tmp_path / "lc.xml").write_text(
        "<LifecycleConfiguration><Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter>"
        "<Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule>"
        "</LifecycleConfiguration>")
    s3cmd("setlifecycle", str(tmp_path / "lc.xml"), "s3://" + b)
    got = ET.fromstring(s3cmd("getlifecycle", "s3://" + b).stdout)
    ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
    assert got.find("s3:Rule/s3:ID", ns).text == "logs"
    assert got.find("s3:Rule/s3:Expiration/s3:Days", ns).text == "7"
    assert "'logs/' will expire in '7' day(s)" in s3cmd("info", "s3://" + b).stdout
    s3cmd("expire", "--expiry-days=3", "--expiry-prefix=tmp/", "s3://" + b)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert [(r["Filter"], r["Expiration"], r["Status"]) for r in rules] == [
        ({"Prefix": "tmp/"}, {"Days": 3}, "Enabled")]
    s3cmd("dellifecycle", "s3://" + b)
    r = s3cmd("getlifecycle", "s3://" + b, check=False)
    assert r.returncode != 0 and "NoSuchLifecycleConfiguration" in r.stderr

    # CORS
    (tmp_path / "cors.xml").write_text(
        "<CORSConfiguration><CORSRule><AllowedOrigin>http://example.com</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
        "<AllowedHeader>*</AllowedHeader><MaxAgeSeconds>300</MaxAgeSeconds>"
        "<ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>")
    s3cmd("setcors", str(tmp_path / "cors.xml"), "s3://" + b)
    rule = s3.get_bucket_cors(Bucket=b)["CORSRules"][0]
    assert rule["AllowedOrigins"] == ["http://example.com"]
    assert rule["AllowedMethods"] == ["GET", "PUT"] and rule["MaxAgeSeconds"] == 300
    assert "http://example.com" in s3cmd("info", "s3://" + b).stdout
    s3cmd("delcors", "s3://" + b)
    assert code_of(s3.get_bucket_cors, Bucket=b) == "NoSuchCORSConfiguration"

    # website
    s3cmd("ws-create", "--ws-index=index.html", "--ws-error=404.html", "s3://" + b)
    w = s3.get_bucket_website(Bucket=b)
    assert w["IndexDocument"] == {"Suffix": "index.html"} and w["ErrorDocument"] == {
        "Key": "404.html"}
    out = s3cmd("ws-info", "s3://" + b).stdout
    assert "Index document:   index.html" in out and "Error document:   404.html" in out
    s3cmd("ws-delete", "s3://" + b)
    assert code_of(s3.get_bucket_website, Bucket=b) == "NoSuchWebsiteConfiguration"

    # requester pays: set, and a request that says it pays goes through
    s3cmd("--requester-pays", "payer", "s3://" + b)
    assert s3.get_bucket_request_payment(Bucket=b)["Payer"] == "Requester"
    assert "s3://%s/f.txt" % b in s3cmd("--requester-pays", "ls", "s3://" + b).stdout
    s3cmd("payer", "s3://" + b)  # without --requester-pays: back to the owner
    assert s3.get_bucket_request_payment(Bucket=b)["Payer"] == "BucketOwner"

    # access logging to another bucket, shown, turned off
    s3cmd("accesslog", "--access-logging-target-prefix=s3://%s-own/logs/" % b, "s3://" + b)
    assert s3.get_bucket_logging(Bucket=b)["LoggingEnabled"] == {
        "TargetBucket": b + "-own", "TargetPrefix": "logs/"}
    assert "Logging Enabled: True" in s3cmd("accesslog", "s3://" + b).stdout
    s3cmd("accesslog", "--no-access-logging", "s3://" + b)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=b)


def test_s3cmd_multipart_restore_continue(nimbus, tmp_path):
    # SigV4 only: test_tools.py has SigV2 multipart uploads
    s3 = client(nimbus, "s3")
    s3cmd = S3cmd(nimbus, tmp_path)
    b = "mp-v4"
    s3cmd("mb", "s3://" + b)
    key = "up/n\u00e4me with space"
    up = s3.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
    s3.upload_part(Bucket=b, Key=key, UploadId=up, PartNumber=1, Body=b"p" * 100)
    out = s3cmd("multipart", "s3://" + b).stdout
    assert "s3://%s/%s\t%s" % (b, key, up) in out
    out = s3cmd("listmp", "s3://%s/%s" % (b, key), up).stdout
    assert '\t1\t"%s"\t100' % hashlib.md5(b"p" * 100).hexdigest() in out
    s3cmd("abortmp", "s3://%s/%s" % (b, key), up)
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []

    # an upload in 5 MiB parts resumed by --continue-put: it finds the pending upload, keeps
    # the part already there (ListParts: same size and MD5) and sends the rest
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))
    up = s3.create_multipart_upload(Bucket=b, Key="big.bin")["UploadId"]
    s3.upload_part(Bucket=b, Key="big.bin", UploadId=up, PartNumber=1,
                   Body=big.read_bytes()[:5 * MiB])
    r = s3cmd("put", "--continue-put", "--multipart-chunk-size-mb=5", str(big),
              "s3://%s/big.bin" % b)
    assert "part 1, skipping" in r.stderr
    assert s3.head_object(Bucket=b, Key="big.bin")["ETag"].endswith('-2"')
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    # (the upload began without s3cmd's md5 attribute: info shows the multipart ETag)
    info = s3cmd("info", "s3://%s/big.bin" % b).stdout
    assert "File size: %d" % (6 * MiB) in info and "-2\n" in info
    part = tmp_path / "part.bin"
    part.write_bytes(big.read_bytes()[:1000000])
    s3cmd("get", "--continue", "s3://%s/big.bin" % b, str(part))
    assert part.read_bytes() == big.read_bytes()

    # GLACIER: a get fails until a restore completes on the region clock
    f = tmp_path / "cold.txt"
    f.write_bytes(b"cold data")
    s3cmd("put", "--storage-class=GLACIER", str(f), "s3://%s/cold.txt" % b)
    assert "GLACIER" in s3cmd("ls", "-l", "s3://%s/cold.txt" % b).stdout
    r = s3cmd("get", "s3://%s/cold.txt" % b, str(tmp_path / "c1"), check=False)
    assert r.returncode != 0 and "InvalidObjectState" in r.stderr
    s3cmd("restore", "--restore-days=2", "--restore-priority=expedited",
          "s3://%s/cold.txt" % b)
    assert 'ongoing-request="true"' in s3.head_object(Bucket=b, Key="cold.txt")["Restore"]
    advance_clock(nimbus, "6m")
    s3cmd("get", "s3://%s/cold.txt" % b, str(tmp_path / "c2"))
    assert (tmp_path / "c2").read_bytes() == b"cold data"

    # server-side encryption asked for, du and la agree with the listing
    s3cmd("put", "--server-side-encryption", str(f), "s3://%s/enc.txt" % b)
    assert s3.head_object(Bucket=b, Key="enc.txt")["ServerSideEncryption"] == "AES256"
    total = sum(o["Size"] for o in s3.list_objects_v2(Bucket=b)["Contents"])
    assert s3cmd("du", "s3://" + b).stdout.split()[:2] == [str(total), "3"]
    la = s3cmd("la").stdout
    assert "s3://%s/enc.txt" % b in la and "s3://%s/big.bin" % b in la

    # fixbucket: a key XML 1.0 cannot carry (s3cmd's plain listing fails on it, as on AWS) is
    # found through a url-encoded listing and renamed by copy + delete
    s3.put_object(Bucket=b, Key="fix/bad\x01name", Body=b"odd")
    r = s3cmd("fixbucket", "s3://%s/fix/" % b)
    assert "renamed to 'fix/bad^Aname'" in r.stdout + r.stderr
    fixed = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="fix/")["Contents"]]
    assert fixed == ["fix/bad^Aname"]
    assert s3.get_object(Bucket=b, Key="fix/bad^Aname")["Body"].read() == b"odd"

    # event notifications to an SQS queue: set (a test event first), delivered, deleted
    sqs = client(nimbus, "sqs")
    q = sqs.create_queue(QueueName="s3cmd-events")["QueueUrl"]
    (tmp_path / "notif.xml").write_text(
        "<NotificationConfiguration><QueueConfiguration><Id>q1</Id><Filter><S3Key><FilterRule>"
        "<Name>prefix</Name><Value>in/</Value></FilterRule></S3Key></Filter>"
        "<Queue>arn:aws:sqs:us-east-1:000000000000:s3cmd-events</Queue>"
        "<Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>")
    s3cmd("setnotification", str(tmp_path / "notif.xml"), "s3://" + b)
    conf = s3.get_bucket_notification_configuration(Bucket=b)["QueueConfigurations"]
    assert [(c["Id"], c["Events"]) for c in conf] == [("q1", ["s3:ObjectCreated:*"])]
    assert "<Value>in/</Value>" in s3cmd("getnotification", "s3://" + b).stdout
    s3cmd("put", str(f), "s3://%s/in/new.txt" % b)
    s3cmd("put", str(f), "s3://%s/out/skip.txt" % b)
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        bodies += [json.loads(m["Body"]) for m in got]
    assert [x.get("Event") for x in bodies if "Event" in x] == ["s3:TestEvent"]
    recs = [r for x in bodies for r in x.get("Records", [])]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in recs] == [
        ("ObjectCreated:Put", "in/new.txt")]
    s3cmd("delnotification", "s3://" + b)
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=b)

    # rb --recursive on a versioned bucket: the deletes leave delete markers and older
    # versions, so the bucket is not empty (AWS's message says so)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3cmd("put", str(f), "s3://%s/versioned.txt" % b)
    r = s3cmd("rb", "--recursive", "--force", "s3://" + b, check=False)
    assert r.returncode != 0 and "You must delete all versions in the bucket" in r.stderr
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    assert s3.list_object_versions(Bucket=b)["DeleteMarkers"]


@pytest.mark.parametrize("sigv2", [False, True], ids=["v4", "v2"])
def test_s3cmd_virtual_hosted(nimbus, tmp_path, vhost_proxy, sigv2):
    s3 = client(nimbus, "s3")
    base = S3cmd(nimbus, tmp_path, vhost_proxy=vhost_proxy)
    sig = ["--signature-v2"] if sigv2 else []

    def s3cmd(*args, **kw):
        return base(*sig, *args, **kw)

    b = "vh-v2" if sigv2 else "vh-v4"
    s3cmd("mb", "s3://" + b)
    assert ("PUT", "%s.localhost:%d" % (b, nimbus.port)) in vhost_proxy.requests
    tree = tmp_path / "tree"
    files = make_tree(tree)
    s3cmd("sync", str(tree) + "/", "s3://%s/t/" % b)
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]) == sorted(
        "t/" + k for k in files)
    assert "upload:" not in s3cmd("sync", str(tree) + "/", "s3://%s/t/" % b).stdout
    down = tmp_path / "down"
    s3cmd("sync", "s3://%s/t/" % b, str(down) + "/")
    assert read_tree(down) == files
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))
    s3cmd("put", "--multipart-chunk-size-mb=5", str(big), "s3://%s/big.bin" % b)
    assert s3.get_object(Bucket=b, Key="big.bin")["Body"].read() == big.read_bytes()
    # s3 to s3 within the bucket: server-side copies
    s3cmd("sync", "s3://%s/t/" % b, "s3://%s/copy/" % b)
    for k, data in files.items():
        assert s3.get_object(Bucket=b, Key="copy/" + k)["Body"].read() == data
    # a signed URL (always SigV2 in s3cmd) for the virtual host reads the object
    name = "n\u00e4me \u00fc+\u00df.txt"
    url = s3cmd("signurl", "s3://%s/t/%s" % (b, name), "+300").stdout.strip()
    assert url.startswith("http://%s.localhost:%d/t/" % (b, nimbus.port))
    assert anon_get(url, proxy="http://127.0.0.1:%d" % vhost_proxy.port) == (200, files[name])
    s3cmd("rb", "--recursive", "--force", "s3://" + b)
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


def test_tools_follow_the_region_named_under_strict_region(nimbus_factory, tmp_path):
    # --strict-region: a signature for another region is AWS's 400 AuthorizationHeaderMalformed
    # naming the expected region (<Region>, x-amz-bucket-region); the aws CLI and s3cmd re-sign
    # for it and carry on, rclone (no redirect on a 400) reports it, as at AWS's regional endpoint
    server = nimbus_factory(args=["--strict-region"])
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="strict-b")
    aws = Aws(server, tmp_path)
    aws("s3", "cp", "-", "s3://strict-b/from-aws.txt", "--region", "eu-west-1", input="aws\n")
    out = aws("s3", "cp", "s3://strict-b/from-aws.txt", "-", "--region", "eu-west-1").stdout
    assert out == "aws\n"
    s3cmd = S3cmd(server, tmp_path)
    s3cmd.cfg.write_text(s3cmd.cfg.read_text().replace("bucket_location = us-east-1",
                                                       "bucket_location = eu-west-1"))
    f = tmp_path / "f.txt"
    f.write_bytes(b"s3cmd\n")
    s3cmd("put", str(f), "s3://strict-b/from-s3cmd.txt")
    assert s3cmd("get", "s3://strict-b/from-aws.txt", "-").stdout == "aws\n"
    assert "s3://strict-b/from-s3cmd.txt" in s3cmd("ls", "s3://strict-b").stdout
    assert s3.get_object(Bucket="strict-b", Key="from-s3cmd.txt")["Body"].read() == b"s3cmd\n"
    rclone = Rclone(server, tmp_path)
    rclone.env["RCLONE_CONFIG_NB_REGION"] = "eu-west-1"
    r = rclone("lsf", "nb:strict-b", check=False)
    assert r.returncode != 0
    assert "the region 'eu-west-1' is wrong; expecting 'us-east-1'" in r.stderr
    rclone.env["RCLONE_CONFIG_NB_REGION"] = "us-east-1"
    assert sorted(rclone("lsf", "nb:strict-b").stdout.split()) == ["from-aws.txt",
                                                                   "from-s3cmd.txt"]
