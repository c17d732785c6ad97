"""Accounts: `nimbus accounts` and /_nimbus/accounts; each account has its own root user and
S3 canonical id, and accounts are isolated from each other."""
import json
import os
import subprocess

from conftest import BIN, client
from iam_helpers import admin, allow, doc, make_user, refused


def cli(server, *args):
    p = subprocess.run([BIN, "accounts"] + list(args) + ["--port", str(server.port)],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip().startswith("{") else p.stdout), p.stderr


def test_cli_create_list_delete(nimbus):
    rc, out, err = cli(nimbus, "create", "--id", "123456789012", "--name", "prod", "--email", "ops@example.com")
    assert rc == 0, err
    assert out["AccountId"] == "123456789012" and out["Name"] == "prod" and out["Email"] == "ops@example.com"
    assert out["Arn"] == "arn:aws:iam::123456789012:root"
    assert out["AccessKeyId"].startswith("AKIA") and len(out["SecretAccessKey"]) == 40
    assert len(out["CanonicalUserId"]) == 64
    # the generated root key works at once
    root = client(nimbus, "sts", access_key=out["AccessKeyId"], secret_key=out["SecretAccessKey"])
    assert root.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:root"
    rc, out2, _ = cli(nimbus, "create", "--access-key", "PARTNERKEY", "--secret-key", "partner-secret")
    assert rc == 0 and len(out2["AccountId"]) == 12 and out2["AccessKeyId"] == "PARTNERKEY"
    assert client(nimbus, "sts", access_key="PARTNERKEY", secret_key="partner-secret").get_caller_identity()[
        "Account"] == out2["AccountId"]
    rc, listing, _ = cli(nimbus, "list")
    ids = [a["AccountId"] for a in listing["Accounts"]]
    assert ids == sorted(["000000000000", "123456789012", out2["AccountId"]])
    assert all("SecretAccessKey" not in a for a in listing["Accounts"])
    rc, _, _ = cli(nimbus, "create", "--id", "123456789012")
    assert rc != 0  # exists
    rc, _, _ = cli(nimbus, "create", "--id", "12345")
    assert rc != 0  # not 12 digits
    rc, _, _ = cli(nimbus, "delete", "123456789012")
    assert rc == 0
    refused(root.get_caller_identity, code="InvalidClientTokenId")
    rc, _, _ = cli(nimbus, "delete", "123456789012")
    assert rc != 0
    rc, _, _ = cli(nimbus, "delete", "000000000000")
    assert rc != 0  # the default account stays


def test_admin_api(nimbus):
    st, a = admin(nimbus, "POST", "/_nimbus/accounts", {"Name": "api"})
    assert st == 200 and a["Name"] == "api"
    st, one = admin(nimbus, "GET", "/_nimbus/accounts/" + a["AccountId"])
    assert st == 200 and one["AccountId"] == a["AccountId"] and "SecretAccessKey" not in one
    st, _ = admin(nimbus, "POST", "/_nimbus/accounts", {"AccountId": a["AccountId"]})
    assert st == 409
    st, _ = admin(nimbus, "POST", "/_nimbus/accounts", {"AccessKeyId": "ONLYKEY"})
    assert st == 400
    st, _ = admin(nimbus, "DELETE", "/_nimbus/accounts/" + a["AccountId"])
    assert st == 200
    st, _ = admin(nimbus, "GET", "/_nimbus/accounts/" + a["AccountId"])
    assert st == 404
    st, _ = admin(nimbus, "PUT", "/_nimbus/accounts")
    assert st == 405


def test_accounts_are_isolated(nimbus):
    st, a = admin(nimbus, "POST", "/_nimbus/accounts", {"AccountId": "222222222222"})
    assert st == 200
    b_iam = client(nimbus, "iam", access_key=a["AccessKeyId"], secret_key=a["SecretAccessKey"])
    a_iam = client(nimbus, "iam")
    a_iam.create_user(UserName="shared-name")
    b_iam.create_user(UserName="shared-name")  # same name, other account: no conflict
    assert b_iam.get_user(UserName="shared-name")["User"]["Arn"] == "arn:aws:iam::222222222222:user/shared-name"
    b_iam.create_user(UserName="only-in-b")
    refused(a_iam.get_user, UserName="only-in-b", code="NoSuchEntity")
    # a B user with admin rights in B cannot touch A's policies or roles
    keys = make_user(nimbus, b_iam, "badmin", managed=["arn:aws:iam::aws:policy/AdministratorAccess"])
    bu = client(nimbus, "iam", access_key=keys[0], secret_key=keys[1])
    assert sorted(u["UserName"] for u in bu.list_users()["Users"]) == ["badmin", "only-in-b", "shared-name"]
    a_iam.create_policy(PolicyName="a-pol", PolicyDocument=doc(allow("s3:*")))
    refused(bu.get_policy, PolicyArn="arn:aws:iam::000000000000:policy/a-pol", code="NoSuchEntity")
    # deleting account B removes its users' keys too
    st, _ = admin(nimbus, "DELETE", "/_nimbus/accounts/222222222222")
    assert st == 200
    refused(bu.list_users, code="InvalidClientTokenId")
    assert [u["UserName"] for u in a_iam.list_users()["Users"]] == ["shared-name"]


def test_accounts_persist(nimbus_factory):
    s = nimbus_factory()
    st, a = admin(s, "POST", "/_nimbus/accounts", {"AccountId": "333333333333"})
    assert st == 200
    s.stop()
    s.start()
    c = client(s, "sts", access_key=a["AccessKeyId"], secret_key=a["SecretAccessKey"])
    assert c.get_caller_identity()["Account"] == "333333333333"
    st, listing = admin(s, "GET", "/_nimbus/accounts")
    assert "333333333333" in [x["AccountId"] for x in listing["Accounts"]]


def test_reset_keeps_only_the_default_account(nimbus):
    st, a = admin(nimbus, "POST", "/_nimbus/accounts", {})
    client(nimbus, "iam").create_user(UserName="before-reset")
    st, _ = admin(nimbus, "POST", "/_nimbus/reset")
    assert st == 200
    assert client(nimbus, "iam").list_users()["Users"] == []
    refused(client(nimbus, "sts", access_key=a["AccessKeyId"], secret_key=a["SecretAccessKey"]).get_caller_identity,
            code="InvalidClientTokenId")
    st, listing = admin(nimbus, "GET", "/_nimbus/accounts")
    assert [x["AccountId"] for x in listing["Accounts"]] == ["000000000000"]
