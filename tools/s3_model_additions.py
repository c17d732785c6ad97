"""S3 members that AWS added after the botocore Debian ships (1.29), which current SDKs send and
read: the CRC64NVME checksum and the checksum type (FULL_OBJECT / COMPOSITE, Dec 2024),
ListBuckets paging (max-buckets, continuation-token, prefix, bucket-region; BucketRegion per
bucket, Oct 2024), the server access logs' TargetObjectKeyFormat (SimplePrefix or
PartitionedPrefix with its PartitionDateSource, Nov 2023), and the operations on new
subresources (OPERATIONS). Without them in the model the generic parser drops what a client
sends (a CompletedPart's ChecksumCRC64NVME: the JS SDK's CRC64NVME multipart uploads failed) and
the serializer drops what a handler answers (x-amz-checksum-crc64nvme, x-amz-checksum-type).

Each addition is applied only where the model lacks it, so a newer botocore model (which has
them, in AWS's own shape) is left as it is. Members are placed where AWS's model puts them:
XML bodies are written in member order."""

_CK64 = "ChecksumCRC64NVME"
_CKT = "ChecksumType"

SHAPES = {
    _CK64: {"type": "string"},
    _CKT: {"type": "string", "enum": ["COMPOSITE", "FULL_OBJECT"]},
    "MaxBuckets": {"type": "integer", "min": 1, "max": 10000},
    "BucketRegion": {"type": "string"},
    "MpuObjectSize": {"type": "long"},
    "SimplePrefix": {"type": "structure", "members": {}},
    "PartitionDateSource": {"type": "string", "enum": ["EventTime", "DeliveryTime"]},
    "PartitionedPrefix": {"type": "structure", "members": {
        "PartitionDateSource": {"shape": "PartitionDateSource"}}},
    "RestoreStatus": {"type": "structure", "members": {
        "IsRestoreInProgress": {"shape": "IsRestoreInProgress"},
        "RestoreExpiryDate": {"shape": "RestoreExpiryDate"}}},
    "IsRestoreInProgress": {"type": "boolean"},
    "RestoreExpiryDate": {"type": "timestamp"},
    "TargetObjectKeyFormat": {"type": "structure", "members": {
        "SimplePrefix": {"shape": "SimplePrefix", "locationName": "SimplePrefix"},
        "PartitionedPrefix": {"shape": "PartitionedPrefix", "locationName": "PartitionedPrefix"}}},
}


def _hdr(shape, name):
    return {"shape": shape, "location": "header", "locationName": name}


def _query(shape, name):
    return {"shape": shape, "location": "querystring", "locationName": name}


_CK64_HDR = _hdr(_CK64, "x-amz-checksum-crc64nvme")
_CKT_HDR = _hdr(_CKT, "x-amz-checksum-type")

# shape -> [(member, ref, the member it follows)]
MEMBERS = {
    "PutObjectRequest": [(_CK64, _CK64_HDR, "ChecksumCRC32C")],
    "PutObjectOutput": [(_CK64, _CK64_HDR, "ChecksumCRC32C"), (_CKT, _CKT_HDR, "ChecksumSHA256")],
    "GetObjectOutput": [(_CK64, _CK64_HDR, "ChecksumCRC32C"), (_CKT, _CKT_HDR, "ChecksumSHA256")],
    "HeadObjectOutput": [(_CK64, _CK64_HDR, "ChecksumCRC32C"), (_CKT, _CKT_HDR, "ChecksumSHA256")],
    "UploadPartRequest": [(_CK64, _CK64_HDR, "ChecksumCRC32C")],
    "UploadPartOutput": [(_CK64, _CK64_HDR, "ChecksumCRC32C")],
    "CreateMultipartUploadRequest": [(_CKT, _CKT_HDR, "ChecksumAlgorithm")],
    "CreateMultipartUploadOutput": [(_CKT, _CKT_HDR, "ChecksumAlgorithm")],
    "CompleteMultipartUploadRequest": [
        (_CK64, _CK64_HDR, "ChecksumCRC32C"), (_CKT, _CKT_HDR, "ChecksumSHA256"),
        ("MpuObjectSize", _hdr("MpuObjectSize", "x-amz-mp-object-size"), _CKT)],
    "CompleteMultipartUploadOutput": [(_CK64, {"shape": _CK64}, "ChecksumCRC32C"),
                                      (_CKT, {"shape": _CKT}, "ChecksumSHA256")],
    "CompletedPart": [(_CK64, {"shape": _CK64}, "ChecksumCRC32C")],
    "CopyObjectResult": [(_CKT, {"shape": _CKT}, "LastModified"),
                         (_CK64, {"shape": _CK64}, "ChecksumCRC32C")],
    "CopyPartResult": [(_CK64, {"shape": _CK64}, "ChecksumCRC32C")],
    "Part": [(_CK64, {"shape": _CK64}, "ChecksumCRC32C")],
    "ObjectPart": [(_CK64, {"shape": _CK64}, "ChecksumCRC32C")],
    "Checksum": [(_CK64, {"shape": _CK64}, "ChecksumCRC32C"), (_CKT, {"shape": _CKT}, "ChecksumSHA256")],
    "ListPartsOutput": [(_CKT, {"shape": _CKT}, "ChecksumAlgorithm")],
    "MultipartUpload": [(_CKT, {"shape": _CKT}, "ChecksumAlgorithm")],
    "Object": [(_CKT, {"shape": _CKT}, "ChecksumAlgorithm"),
               ("RestoreStatus", {"shape": "RestoreStatus"}, "Owner")],
    "ObjectVersion": [(_CKT, {"shape": _CKT}, "ChecksumAlgorithm"),
                      ("RestoreStatus", {"shape": "RestoreStatus"}, "Owner")],
    "ListBucketsRequest": [
        ("MaxBuckets", _query("MaxBuckets", "max-buckets"), None),
        ("ContinuationToken", _query("Token", "continuation-token"), None),
        ("Prefix", _query("Prefix", "prefix"), None),
        ("BucketRegion", _query("BucketRegion", "bucket-region"), None)],
    "ListBucketsOutput": [("ContinuationToken", {"shape": "NextToken"}, None),
                          ("Prefix", {"shape": "Prefix"}, None)],
    "Bucket": [("BucketRegion", {"shape": "BucketRegion"}, None)],
    "LoggingEnabled": [("TargetObjectKeyFormat", {"shape": "TargetObjectKeyFormat"},
                        "TargetPrefix")],
}

ENUMS = {"ChecksumAlgorithm": ["CRC64NVME"]}

# Operations AWS added since, on subresources of their own. Without them in the model a request
# for one matched the plain bucket or object operation and got its answer: the JS SDK's
# RenameObject (PUT /{Bucket}/{Key}?renameObject) stored an empty object under the new key,
# CreateSession and GetBucketMetadataTableConfiguration got a ListObjects listing as success.
# In the model without a handler they answer 501 NotImplemented naming the operation.
_BUCKET = {"Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"}}
_OBJECT = dict(_BUCKET, Key={"shape": "ObjectKey", "location": "uri", "locationName": "Key"})
OPERATIONS = {
    "CreateSession": ("GET", "/{Bucket}?session", _BUCKET),
    "RenameObject": ("PUT", "/{Bucket}/{Key+}?renameObject", _OBJECT),
    "CreateBucketMetadataTableConfiguration": ("POST", "/{Bucket}?metadataTable", _BUCKET),
    "GetBucketMetadataTableConfiguration": ("GET", "/{Bucket}?metadataTable", _BUCKET),
    "DeleteBucketMetadataTableConfiguration": ("DELETE", "/{Bucket}?metadataTable", _BUCKET),
    "CreateBucketMetadataConfiguration": ("POST", "/{Bucket}?metadataConfiguration", _BUCKET),
    "GetBucketMetadataConfiguration": ("GET", "/{Bucket}?metadataConfiguration", _BUCKET),
    "DeleteBucketMetadataConfiguration": ("DELETE", "/{Bucket}?metadataConfiguration", _BUCKET),
    "UpdateBucketMetadataInventoryTableConfiguration":
        ("PUT", "/{Bucket}?metadataInventoryTable", _BUCKET),
    "UpdateBucketMetadataJournalTableConfiguration":
        ("PUT", "/{Bucket}?metadataJournalTable", _BUCKET),
}


def apply(model):
    """Add what the model lacks (in place)."""
    shapes = model["shapes"]
    for name, s in SHAPES.items():
        shapes.setdefault(name, dict(s))
    for name, values in ENUMS.items():
        e = shapes[name].setdefault("enum", [])
        e.extend(v for v in values if v not in e)
    if "ListBucketsRequest" not in shapes:
        shapes["ListBucketsRequest"] = {"type": "structure", "members": {}}
        model["operations"]["ListBuckets"]["input"] = {"shape": "ListBucketsRequest"}
    for op, (method, uri, members) in OPERATIONS.items():
        if op in model["operations"]:
            continue
        shapes["Nb%sRequest" % op] = {"type": "structure", "required": list(members),
                                      "members": {k: dict(v) for k, v in members.items()}}
        model["operations"][op] = {"name": op, "http": {"method": method, "requestUri": uri},
                                   "input": {"shape": "Nb%sRequest" % op}}
    for shape, adds in MEMBERS.items():
        s = shapes[shape]
        for member, ref, after in adds:
            if member in s["members"]:
                continue
            if ref["shape"] not in shapes:
                raise SystemExit("s3_model_additions: no shape %s for %s.%s" % (ref["shape"], shape, member))
            items = list(s["members"].items())
            at = len(items)
            if after in s["members"]:
                at = [k for k, _ in items].index(after) + 1
            items.insert(at, (member, dict(ref)))
            s["members"] = dict(items)
    return model
