"""OpenSSL and zlib are loaded on first use, not at start (doc/memory.md: they were 1.8 MiB of
an idle server's 7.5 MiB): an idle server maps neither, and the first call that needs one
loads it and works."""
import urllib.request


def mapped_libs(pid):
    with open("/proc/%d/maps" % pid) as f:
        return {line.split()[-1].rsplit("/", 1)[-1].split(".so")[0]
                for line in f if ".so" in line}


def test_idle_server_maps_no_openssl_nor_zlib(nimbus):
    with urllib.request.urlopen(nimbus.endpoint + "/_nimbus/health") as r:
        assert r.status == 200
    libs = mapped_libs(nimbus.proc.pid)
    assert "libsqlite3" in libs  # the reading works: a library it does link is there
    assert not {"libcrypto", "libssl", "libz"} & libs, libs


def test_first_signed_request_loads_libcrypto_and_is_served(nimbus, boto):
    assert "libcrypto" not in mapped_libs(nimbus.proc.pid)
    ident = boto("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert "libcrypto" in mapped_libs(nimbus.proc.pid)
    assert "libssl" not in mapped_libs(nimbus.proc.pid)  # no TLS listener, no TLS client yet


def test_crc32_checksum_loads_zlib_and_is_right(nimbus, boto):
    s3 = boto("s3")
    s3.create_bucket(Bucket="lazy")
    assert "libz" not in mapped_libs(nimbus.proc.pid)
    s3.put_object(Bucket="lazy", Key="c", Body=b"abc", ChecksumAlgorithm="CRC32")
    head = s3.head_object(Bucket="lazy", Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == "NSRBwg=="  # CRC32("abc") = 0x352441c2
    assert "libz" in mapped_libs(nimbus.proc.pid)
