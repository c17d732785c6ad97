"""Helpers shared by the IAM/STS integration tests: clients for other identities, users with
policies in one call, the region clock, and assertions on refusals."""
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import client


def doc(*statements):
    """A policy document (2012-10-17) from statement dicts, as JSON text."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    st.update(extra)
    return st


def deny(action, resource="*", **extra):
    st = {"Effect": "Deny", "Action": action, "Resource": resource}
    st.update(extra)
    return st


def make_user(server, iam, name, inline=None, managed=(), groups=(), path=None, tags=None):
    """Create a user with an access key; inline is a policy document (text); returns
    (access_key, secret_key)."""
    kw = {"UserName": name}
    if path:
        kw["Path"] = path
    if tags:
        kw["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    iam.create_user(**kw)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
    for arn in managed:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    for g in groups:
        iam.add_user_to_group(GroupName=g, UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def as_user(server, service, keys, token=None, **kw):
    return client(server, service, access_key=keys[0], secret_key=keys[1], token=token, **kw)


def refused(fn, *args, code="AccessDenied", status=None, contains=None, **kw):
    """Call fn and assert it fails with code (and HTTP status, message fragment)."""
    with pytest.raises(ClientError) as ei:
        fn(*args, **kw)
    err = ei.value.response["Error"]
    assert err["Code"] == code, ei.value.response
    if status is not None:
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    if contains:
        assert contains in err["Message"], err["Message"]
    return err


def admin(server, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.endpoint + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def advance_clock(server, duration):
    status, body = admin(server, "POST", "/_nimbus/clock", {"advance": duration})
    assert status == 200, body
    return body
