"""The aws CLI's high-level s3 commands as users run them: cp/mv/rm --recursive, sync --delete
with --exclude/--include, --storage-class/--sse/--metadata/--content-type/--acl on upload,
ls --recursive --human-readable --summarize, website, rb --force."""
import json

import pytest

from conftest import AwsCliError, run_aws


def tree(root, names):
    for n in names:
        p = root / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("content of " + n)


def keys(nimbus, b, prefix=""):
    r = run_aws(nimbus, "s3api", "list-objects-v2", "--bucket", b, "--prefix", prefix)
    return sorted(o["Key"] for o in r.get("Contents", []))


def test_cp_mv_rm_recursive(nimbus, tmp_path):
    tree(tmp_path / "src", ["a.txt", "b.log", "d/c.txt", "d/e/f.txt"])
    run_aws(nimbus, "s3", "mb", "s3://rec", parse=False)
    run_aws(nimbus, "s3", "cp", str(tmp_path / "src"), "s3://rec/up", "--recursive",
            "--exclude", "*.log", parse=False)
    assert keys(nimbus, "rec") == ["up/a.txt", "up/d/c.txt", "up/d/e/f.txt"]
    run_aws(nimbus, "s3", "cp", "s3://rec/up", "s3://rec/copy", "--recursive", parse=False)
    assert keys(nimbus, "rec", "copy/") == ["copy/a.txt", "copy/d/c.txt", "copy/d/e/f.txt"]
    run_aws(nimbus, "s3", "mv", "s3://rec/copy", "s3://rec/moved", "--recursive", parse=False)
    assert keys(nimbus, "rec", "copy/") == []
    assert len(keys(nimbus, "rec", "moved/")) == 3
    run_aws(nimbus, "s3", "cp", "s3://rec/moved", str(tmp_path / "down"), "--recursive", parse=False)
    assert (tmp_path / "down" / "d" / "e" / "f.txt").read_text() == "content of d/e/f.txt"
    run_aws(nimbus, "s3", "rm", "s3://rec/", "--recursive", "--exclude", "*", "--include", "up/d/*",
            parse=False)
    assert keys(nimbus, "rec", "up/") == ["up/a.txt"]
    run_aws(nimbus, "s3", "rm", "s3://rec", "--recursive", parse=False)
    assert keys(nimbus, "rec") == []


def test_sync_delete_exclude(nimbus, tmp_path):
    src = tmp_path / "src"
    tree(src, ["keep.txt", "skip.tmp", "sub/x.txt"])
    run_aws(nimbus, "s3", "mb", "s3://syncd", parse=False)
    run_aws(nimbus, "s3", "sync", str(src), "s3://syncd", "--exclude", "*.tmp", parse=False)
    assert keys(nimbus, "syncd") == ["keep.txt", "sub/x.txt"]
    (src / "keep.txt").unlink()
    p = run_aws(nimbus, "s3", "sync", str(src), "s3://syncd", "--delete", "--exclude", "*.tmp",
                parse=False)
    assert "delete: s3://syncd/keep.txt" in p.stdout
    assert keys(nimbus, "syncd") == ["sub/x.txt"]
    # download side --delete removes local files not in the bucket
    down = tmp_path / "down"
    tree(down, ["stale.txt"])
    run_aws(nimbus, "s3", "sync", "s3://syncd", str(down), "--delete", parse=False)
    assert sorted(str(p.relative_to(down)) for p in down.rglob("*") if p.is_file()) == ["sub/x.txt"]
    # bucket to bucket
    run_aws(nimbus, "s3", "mb", "s3://syncd2", parse=False)
    run_aws(nimbus, "s3", "sync", "s3://syncd", "s3://syncd2", parse=False)
    assert keys(nimbus, "syncd2") == ["sub/x.txt"]


def test_cp_upload_options(nimbus, tmp_path):
    f = tmp_path / "f.dat"
    f.write_bytes(b"payload")
    run_aws(nimbus, "s3", "mb", "s3://opts", parse=False)
    run_aws(nimbus, "s3", "cp", str(f), "s3://opts/f.dat", "--storage-class", "STANDARD_IA",
            "--sse", "AES256", "--metadata", "a=1,b=two", "--content-type", "text/x-custom",
            "--cache-control", "max-age=60", "--content-disposition", "inline",
            "--expires", "2030-01-01T00:00:00Z", parse=False)
    h = run_aws(nimbus, "s3api", "head-object", "--bucket", "opts", "--key", "f.dat")
    assert h["StorageClass"] == "STANDARD_IA" and h["ServerSideEncryption"] == "AES256"
    assert h["Metadata"] == {"a": "1", "b": "two"} and h["ContentType"] == "text/x-custom"
    assert h["CacheControl"] == "max-age=60" and h["ContentDisposition"] == "inline"
    assert "2030" in h["Expires"]
    p = run_aws(nimbus, "s3", "ls", "s3://opts", parse=False)
    assert "f.dat" in p.stdout
    # copy keeps metadata; --metadata-directive REPLACE replaces it
    run_aws(nimbus, "s3", "cp", "s3://opts/f.dat", "s3://opts/g.dat", parse=False)
    assert run_aws(nimbus, "s3api", "head-object", "--bucket", "opts", "--key", "g.dat")["Metadata"] == {
        "a": "1", "b": "two"}
    run_aws(nimbus, "s3", "cp", "s3://opts/f.dat", "s3://opts/h.dat", "--metadata-directive", "REPLACE",
            "--metadata", "c=3", parse=False)
    assert run_aws(nimbus, "s3api", "head-object", "--bucket", "opts", "--key", "h.dat")["Metadata"] == {
        "c": "3"}


def test_cp_acl_public_read(nimbus, tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    run_aws(nimbus, "s3api", "create-bucket", "--bucket", "aclcli", "--object-ownership", "ObjectWriter")
    run_aws(nimbus, "s3api", "delete-public-access-block", "--bucket", "aclcli")
    run_aws(nimbus, "s3", "cp", str(f), "s3://aclcli/f", "--acl", "public-read", parse=False)
    g = run_aws(nimbus, "s3api", "get-object-acl", "--bucket", "aclcli", "--key", "f")["Grants"]
    assert any(x["Grantee"].get("URI") == "http://acs.amazonaws.com/groups/global/AllUsers"
               and x["Permission"] == "READ" for x in g)
    run_aws(nimbus, "s3", "cp", str(f), "s3://aclcli/g", "--grants",
            "read=uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers", parse=False)
    g = run_aws(nimbus, "s3api", "get-object-acl", "--bucket", "aclcli", "--key", "g")["Grants"]
    assert any(x["Grantee"].get("URI", "").endswith("AuthenticatedUsers") for x in g)


def test_ls_recursive_human_summarize(nimbus, tmp_path):
    tree(tmp_path / "t", ["a", "b/c", "b/d/e"])
    run_aws(nimbus, "s3", "mb", "s3://lsb", parse=False)
    run_aws(nimbus, "s3", "cp", str(tmp_path / "t"), "s3://lsb", "--recursive", parse=False)
    p = run_aws(nimbus, "s3", "ls", "s3://lsb", "--recursive", "--human-readable", "--summarize",
                parse=False)
    assert "Total Objects: 3" in p.stdout and "Total Size:" in p.stdout
    assert "b/d/e" in p.stdout and "Bytes" in p.stdout
    p = run_aws(nimbus, "s3", "ls", "s3://lsb", parse=False)
    assert "PRE b/" in p.stdout
    p = run_aws(nimbus, "s3", "ls", parse=False)
    assert "lsb" in p.stdout


def test_website_and_rb_force(nimbus, tmp_path):
    run_aws(nimbus, "s3", "mb", "s3://webcli", parse=False)
    run_aws(nimbus, "s3", "website", "s3://webcli", "--index-document", "index.html",
            "--error-document", "err.html", parse=False)
    w = run_aws(nimbus, "s3api", "get-bucket-website", "--bucket", "webcli")
    assert w["IndexDocument"] == {"Suffix": "index.html"} and w["ErrorDocument"] == {"Key": "err.html"}
    tree(tmp_path / "t", ["index.html", "x/y"])
    run_aws(nimbus, "s3", "cp", str(tmp_path / "t"), "s3://webcli", "--recursive", parse=False)
    with pytest.raises(AwsCliError) as e:
        run_aws(nimbus, "s3", "rb", "s3://webcli", parse=False)
    assert "BucketNotEmpty" in e.value.stderr
    run_aws(nimbus, "s3", "rb", "s3://webcli", "--force", parse=False)
    p = run_aws(nimbus, "s3", "ls", parse=False)
    assert "webcli" not in p.stdout


def test_mb_existing_and_cp_missing(nimbus, tmp_path):
    run_aws(nimbus, "s3", "mb", "s3://dup", parse=False)
    # us-east-1 legacy: re-creating your own bucket succeeds
    run_aws(nimbus, "s3", "mb", "s3://dup", parse=False)
    with pytest.raises(AwsCliError) as e:
        run_aws(nimbus, "s3", "cp", "s3://dup/none", str(tmp_path / "x"), parse=False)
    assert "404" in e.value.stderr or "Not Found" in e.value.stderr


def test_s3api_json_round_trip(nimbus):
    run_aws(nimbus, "s3api", "create-bucket", "--bucket", "jsonb")
    run_aws(nimbus, "s3api", "put-bucket-tagging", "--bucket", "jsonb", "--tagging",
            json.dumps({"TagSet": [{"Key": "k", "Value": "v"}]}))
    assert run_aws(nimbus, "s3api", "get-bucket-tagging", "--bucket", "jsonb")["TagSet"] == [
        {"Key": "k", "Value": "v"}]
