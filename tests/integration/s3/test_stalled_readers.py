"""Large GETs whose readers stop reading must not take the server's workers: a worker that
streams a large object waits for the socket only while few others do so (http/server.c,
out_file_wait_locked); past that it queues the rest of the object and moves on. Here 80
connections ask for a 24 MiB object and read nothing, more than the server has workers;
other requests that need a worker must still be answered."""
import socket
import uuid

from conftest import client
from s3util import bucket, s3  # noqa: F401 (fixtures)

SIZE = 24 * 1024 * 1024  # above the 4 MiB read into memory: streamed from the file
STALLED = 80             # more than the 64 workers


def test_stalled_large_gets_leave_workers_free(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="big", Body=b"\xa5" * SIZE)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big"},
                                    ExpiresIn=600)
    path = url.split(str(nimbus.port), 1)[1]
    socks = []
    try:
        for _ in range(STALLED):
            so = socket.socket()
            so.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            so.connect((nimbus.host, nimbus.port))
            so.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                        % (path, nimbus.host, nimbus.port)).encode())
            socks.append(so)
        # Each stalled stream now has a block queued and its reader asleep. Requests that
        # run on workers (a PUT's commit, a file read of a 2 MiB object, a multipart
        # upload) must still complete, well before the stalled connections time out.
        c = client(nimbus, "s3", config_kw={"read_timeout": 15, "connect_timeout": 5})
        for i in range(8):
            key = "k-%d-%s" % (i, uuid.uuid4().hex[:6])
            c.put_object(Bucket=bucket, Key=key, Body=b"x" * (2 * 1024 * 1024))
            assert c.get_object(Bucket=bucket, Key=key)["Body"].read() == b"x" * (2 * 1024 * 1024)
        up = c.create_multipart_upload(Bucket=bucket, Key="mp")
        part = c.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                             Body=b"p" * 1024)
        c.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": part["ETag"]}]})
        assert c.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"p" * 1024
    finally:
        for so in socks:
            so.close()
    # The abandoned streams end; the object reads whole afterwards.
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"\xa5" * SIZE
