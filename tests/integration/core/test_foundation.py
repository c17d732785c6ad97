"""The foundation through every protocol, with the real clients: STS (query), Logs (json),
Lambda (rest-json), EC2 (ec2), S3 (rest-xml); authentication failures; NotImplemented;
the admin surface, the region clock and the CLI."""
import json
import os
import signal
import time
import subprocess
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from conftest import BIN, client, run_aws


def err_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


# ---- STS (query protocol) ----

def test_sts_get_caller_identity_cli(aws):
    out = aws("sts", "get-caller-identity")
    assert out["Account"] == "000000000000"
    assert out["Arn"] == "arn:aws:iam::000000000000:root"
    assert out["UserId"] == "000000000000"


def test_sts_get_caller_identity_boto3(boto):
    sts = boto("sts")
    out = sts.get_caller_identity()
    assert out["Account"] == "000000000000"
    assert out["Arn"] == "arn:aws:iam::000000000000:root"
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(out["ResponseMetadata"]["RequestId"]) == 36


def test_wrong_secret_is_signature_does_not_match(nimbus):
    sts = client(nimbus, "sts", secret_key="not-the-secret")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert err_code(e) == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_secret_cli(nimbus):
    p = run_aws(nimbus, "sts", "get-caller-identity", secret_key="nope", check=False, parse=False)
    assert p.returncode != 0
    assert "SignatureDoesNotMatch" in p.stderr


def test_unknown_access_key(nimbus):
    sts = client(nimbus, "sts", access_key="AKIANOSUCHKEY0000000")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert err_code(e) == "InvalidClientTokenId"


def test_operation_without_handler_is_not_implemented(boto):
    ec2 = boto("ec2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_vpn_gateways()
    assert err_code(e) == "NotImplemented"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "DescribeVpnGateways" in e.value.response["Error"]["Message"]
    assert "ec2" in e.value.response["Error"]["Message"]


def test_not_implemented_cli(nimbus):
    p = run_aws(nimbus, "logs", "create-log-group", "--log-group-name", "g", check=False, parse=False)
    assert p.returncode != 0
    assert "NotImplemented" in p.stderr and "CreateLogGroup" in p.stderr


def test_presigned_get_caller_identity(nimbus):
    sts = client(nimbus, "sts")
    # botocore signs with the model's method unless told; AWS checks the method too.
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url) as r:
        body = r.read().decode()
    assert "<Account>000000000000</Account>" in body
    assert "GetCallerIdentityResult" in body


def test_unsigned_request_to_sts_is_refused(nimbus):
    req = urllib.request.Request(nimbus.endpoint + "/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403
    assert b"MissingAuthenticationToken" in e.value.read()


# ---- the other protocols ----

def test_logs_describe_log_groups(boto, aws):
    assert boto("logs").describe_log_groups()["logGroups"] == []
    assert aws("logs", "describe-log-groups")["logGroups"] == []


def test_logs_validation(boto):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        boto("logs").describe_log_groups(limit=500)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_lambda_list_functions(boto, aws):
    assert boto("lambda").list_functions()["Functions"] == []
    assert aws("lambda", "list-functions")["Functions"] == []


def test_ec2_describe_regions(boto, aws):
    out = boto("ec2").describe_regions()
    assert [r["RegionName"] for r in out["Regions"]] == ["us-east-1"]
    out = aws("ec2", "describe-regions", "--filters", "Name=region-name,Values=us-east-1")
    assert out["Regions"][0]["RegionName"] == "us-east-1"
    out = aws("ec2", "describe-regions", "--filters", "Name=region-name,Values=eu-west-1")
    assert out["Regions"] == []


def test_s3_list_buckets(boto, aws):
    out = boto("s3").list_buckets()
    assert out["Buckets"] == []
    assert "ID" in out["Owner"]
    out = aws("s3api", "list-buckets")
    assert out.get("Buckets", []) == []


def test_unknown_service(nimbus):
    kinesis = client(nimbus, "kinesis")  # not a service Nimbus serves
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kinesis.list_streams()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 501)
    assert "kinesis" in json.dumps(e.value.response).lower()


# ---- admin surface, clock, CLI ----

def get_json(url, data=None):
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def test_health(nimbus):
    h = get_json(nimbus.endpoint + "/_nimbus/health")
    assert h["status"] == "ok"
    assert "sts" in h["services"] and "s3" in h["services"]
    assert h["uptime_seconds"] >= 0


def test_clock_advance_and_persist(nimbus_factory):
    s = nimbus_factory()
    before = get_json(s.endpoint + "/_nimbus/clock")["epoch"]
    after = get_json(s.endpoint + "/_nimbus/clock", data=json.dumps({"advance": "30d"}).encode())["epoch"]
    assert after - before >= 30 * 86400
    assert after - before < 30 * 86400 + 60
    # the CLI talks to the running server
    p = subprocess.run([BIN, "clock", "advance", "1d", "--port", str(s.port)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["epoch"] - before >= 31 * 86400
    p = subprocess.run([BIN, "status", "--port", str(s.port)], capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout)["status"] == "ok"
    # never backwards, also across a restart
    assert s.stop() == 0
    s2 = nimbus_factory(data_dir=s.data_dir, port=s.port)
    again = get_json(s2.endpoint + "/_nimbus/clock")["epoch"]
    assert again - before >= 31 * 86400


def test_clock_rejects_bad_duration(nimbus):
    with pytest.raises(urllib.error.HTTPError) as e:
        get_json(nimbus.endpoint + "/_nimbus/clock", data=b'{"advance":"soon"}')
    assert e.value.code == 400


def test_clock_rate(nimbus_factory):
    import time
    s = nimbus_factory(args=["--clock-rate", "3600"])
    a = get_json(s.endpoint + "/_nimbus/clock")["epoch"]
    time.sleep(1.0)
    b = get_json(s.endpoint + "/_nimbus/clock")["epoch"]
    assert b - a >= 3000  # about an hour of region time in a real second


def test_reset(nimbus):
    out = get_json(nimbus.endpoint + "/_nimbus/reset", data=b"")
    assert out["reset"] is True


def test_sigterm_is_clean(nimbus_factory):
    s = nimbus_factory()
    assert client(s, "sts").get_caller_identity()["Account"] == "000000000000"
    assert s.stop(signal.SIGTERM) == 0
    assert "stopped" in s.read_log()


def test_access_log_line(nimbus):
    client(nimbus, "sts").get_caller_identity()
    # A loop writes its access lines in batches, before it next waits for events: the line
    # may land a moment after the response.
    deadline = time.time() + 5
    while True:
        log = nimbus.read_log()
        line = [l for l in log.splitlines() if "GetCallerIdentity" in l]
        if line or time.time() > deadline:
            break
        time.sleep(0.05)
    assert line, log
    assert "000000000000" in line[-1] and "sts" in line[-1] and " 200 " in line[-1] + " "


def test_version_and_help():
    p = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("nimbus ")
    p = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True)
    assert p.returncode == 0
    for flag in ("--host", "--port", "--data-dir", "--log-level", "--tls-port", "--tls-cert", "--tls-key",
                 "--clock-rate", "NIMBUS_PORT"):
        assert flag in p.stdout + p.stderr


def test_env_configuration(nimbus_factory):
    s = nimbus_factory(start=False)
    s.env["NIMBUS_REGION"] = "eu-west-3"
    s.start()
    assert client(s, "ec2", region="eu-west-3").describe_regions()["Regions"][0]["RegionName"] == "eu-west-3"


def test_generated_root_credentials_off_loopback(nimbus_factory, tmp_path):
    """Bound to a non-loopback address there is no well-known key: test/test is refused and the
    generated root keys are stored 0600 and work."""
    s = nimbus_factory(start=False)
    s.args += ["--host", "0.0.0.0"]
    s.start()
    path = os.path.join(s.data_dir, "iam", "root-credentials")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    kv = dict(l.split("=", 1) for l in open(path).read().split())
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client(s, "sts").get_caller_identity()
    assert err_code(e) == "InvalidClientTokenId"
    out = client(s, "sts", access_key=kv["access_key"], secret_key=kv["secret_key"]).get_caller_identity()
    assert out["Arn"] == "arn:aws:iam::%s:root" % kv["account"]
    assert kv["secret_key"] in s.read_log()  # printed once in the banner


def test_requests_during_startup_are_served(nimbus_factory, tmp_path):
    """The listeners come up before the services open their state; a request that arrives
    in between waits and is answered, never refused."""
    import socket
    import time
    from conftest import free_port
    port = free_port()
    data = tmp_path / "d"
    p = subprocess.Popen([BIN, "serve", "--port", str(port), "--data-dir", str(data)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.001)
        class S:
            endpoint = "http://127.0.0.1:%d" % port
        s3 = client(S, "s3")
        s3.create_bucket(Bucket="early-bird")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["early-bird"]
    finally:
        p.terminate()
        assert p.wait(20) == 0
