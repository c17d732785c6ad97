"""Model validation errors of the json protocol (Logs) and rest-json (Lambda), in AWS's exact
code and wording, and Coral's SerializationException for JSON type mismatches."""
import json

import pytest

from conftest import NOVALID, call_error as err
from sigv4util import request, sign


def test_logs_missing_and_limits(boto):
    logs = boto("logs", **NOVALID)
    assert err(logs.create_log_group) == (
        400, "ValidationException",
        "1 validation error detected: Value null at 'logGroupName' failed to satisfy "
        "constraint: Member must not be null")
    assert err(logs.describe_log_groups, limit=0, logGroupNamePrefix="") == (
        400, "ValidationException",
        "2 validation errors detected: Value '' at 'logGroupNamePrefix' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1; Value '0' at 'limit' "
        "failed to satisfy constraint: Member must have value greater than or equal to 1")


@pytest.mark.parametrize("kw,msg", [
    ({"limit": "abc"}, "STRING_VALUE can not be converted to an Integer"),
    ({"logGroupNamePrefix": 5},
     "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
    ({"logGroupNamePrefix": {"a": 1}}, "Start of structure or map found where not expected."),
    ({"logGroupNamePrefix": ["a"]}, "Start of list found where not expected."),
])
def test_logs_json_type_mismatch(boto, kw, msg):
    logs = boto("logs", **NOVALID)
    assert err(logs.describe_log_groups, **kw) == (400, "SerializationException", msg)


def test_logs_type_mismatch_raw(nimbus):
    body = json.dumps({"limit": "abc"}).encode()
    hdrs = {"Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}
    h = sign("POST", "%s:%d" % (nimbus.host, nimbus.port), "/", [], hdrs, body, service="logs")
    st, _, data = request(nimbus, "POST", "/", h, body)
    assert st == 400, data
    doc = json.loads(data)
    assert doc["__type"].endswith("SerializationException"), doc
    assert doc.get("message", doc.get("Message")) == "STRING_VALUE can not be converted to an Integer"


def test_lambda_validation_exception(boto):
    lam = boto("lambda", **NOVALID)
    assert err(lam.list_functions, MaxItems=0) == (
        400, "ValidationException",
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1")
    assert err(lam.get_function, FunctionName="a" * 171) == (
        400, "ValidationException",
        "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
        "constraint: Member must have length less than or equal to 170" % ("a" * 171))


def test_lambda_body_type_mismatch(boto):
    lam = boto("lambda", **NOVALID)
    assert err(lam.create_function, FunctionName="f", Role="arn:aws:iam::000000000000:role/r",
               Code={"ZipFile": b"x"}, Timeout="abc") == (
        400, "InvalidRequestContentException",
        "Could not parse request body into json: Could not parse payload into json: Timeout "
        "can not be converted to an Integer")
