"""Crash safety (issue 3, "Done when"): SIGKILL the server at random moments while clients run
PUTs (inline and file-backed sizes), multipart completions and deletes; restart it on the same
data directory and check that

  - every acknowledged write is there with exactly its bytes (and acknowledged deletes stay
    deleted): a key shows its last acknowledged state, or the outcome of the one request that
    was in flight on it when the server died;
  - nothing else is visible (no key that was never written, no torn object);
  - content files that no metadata references are gone after the start-up scan (files younger
    than the scan's 2-second guard are collected by the next start).

100 kill cycles with NIMBUS_LONG=1, else 5."""
import hashlib
import os
import random
import sqlite3
import threading
import time

from conftest import LONG, client

CYCLES = 100 if LONG else 5
WORKERS = 6
KEYS_PER_WORKER = 4
MiB = 1024 * 1024
SIZES = [0, 100, 3000, 70 * 1024, 300 * 1024]  # inline (<= 64 KiB) and file-backed


def body_of(tag, size):
    block = hashlib.sha256(tag.encode()).digest() * 64  # 2 KiB pattern per (key, seq)
    return (block * (size // len(block) + 1))[:size]


def digest(b):
    return hashlib.sha256(b).hexdigest()


class Key:
    """One key's history: its last acknowledged state and the in-flight request's outcome."""

    def __init__(self, name):
        self.name = name
        self.acked = None        # sha256 of the acknowledged content, None = absent
        self.pending = None      # ("state", sha or None) of the request in flight, or None
        self.seq = 0


def worker(cli, bucket, keys, stop, rnd):
    while not stop.is_set():
        k = rnd.choice(keys)
        k.seq += 1
        op = rnd.random()
        try:
            if op < 0.2:
                k.pending = ("state", None)
                cli.delete_object(Bucket=bucket, Key=k.name)
                k.acked, k.pending = None, None
            elif op < 0.35:
                big = rnd.random() < 0.25
                parts = [body_of("%s:%d:p1" % (k.name, k.seq), 5 * MiB)] if big else []
                parts.append(body_of("%s:%d:p2" % (k.name, k.seq), rnd.choice(SIZES[1:])))
                up = cli.create_multipart_upload(Bucket=bucket, Key=k.name)
                etags = []
                for i, p in enumerate(parts):
                    etags.append(cli.upload_part(Bucket=bucket, Key=k.name, UploadId=up["UploadId"],
                                                 PartNumber=i + 1, Body=p)["ETag"])
                k.pending = ("state", digest(b"".join(parts)))
                cli.complete_multipart_upload(
                    Bucket=bucket, Key=k.name, UploadId=up["UploadId"],
                    MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": t}
                                               for i, t in enumerate(etags)]})
                k.acked, k.pending = k.pending[1], None
            else:
                b = body_of("%s:%d" % (k.name, k.seq), rnd.choice(SIZES))
                k.pending = ("state", digest(b))
                cli.put_object(Bucket=bucket, Key=k.name, Body=b)
                k.acked, k.pending = k.pending[1], None
        except Exception:
            return  # the server died under us: this worker's in-flight request stays pending


def referenced_blobs(data_dir):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "s3", "s3.db"), uri=True)
    try:
        refs = set()
        for q in ("SELECT blob FROM objects WHERE blob IS NOT NULL", "SELECT blob FROM object_parts",
                  "SELECT blob FROM parts"):
            refs.update(r[0] for r in db.execute(q))
        return refs
    finally:
        db.close()


def orphans(data_dir, older_than):
    refs = referenced_blobs(data_dir)
    out = []
    for root, _, files in os.walk(os.path.join(data_dir, "s3", "blobs")):
        for f in files:
            p = os.path.join(root, f)
            if f in refs:
                continue
            try:
                if os.stat(p).st_mtime < older_than:
                    out.append(p)
            except FileNotFoundError:
                pass
    return out


def check(cli, bucket, keys):
    seen = set()
    pages = cli.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    for page in pages:
        seen.update(o["Key"] for o in page.get("Contents", []))
    names = {k.name for k in keys}
    assert seen <= names, "keys that were never written are visible: %s" % (seen - names)
    for k in keys:
        allowed = {k.acked}
        if k.pending:
            allowed.add(k.pending[1])
        try:
            got = digest(cli.get_object(Bucket=bucket, Key=k.name)["Body"].read())
        except cli.exceptions.NoSuchKey:
            got = None
        assert got in allowed, "%s: got %s, allowed %s (acked %s)" % (k.name, got, allowed, k.acked)
        assert (k.name in seen) == (got is not None), "%s: listing and GET disagree" % k.name
        # the outcome is now known: it becomes the acknowledged state
        k.acked, k.pending = got, None


def test_kill9_during_writes(nimbus_factory):
    rnd = random.Random(os.environ.get("NIMBUS_CRASH_SEED", str(time.time())))
    srv = nimbus_factory()
    data_dir = srv.data_dir
    cli = client(srv, "s3")
    bucket = "crash"
    cli.create_bucket(Bucket=bucket)
    keys = [[Key("w%d/k%d" % (w, i)) for i in range(KEYS_PER_WORKER)] for w in range(WORKERS)]
    allkeys = [k for ks in keys for k in ks]
    started = time.time()
    for cycle in range(CYCLES):
        stop = threading.Event()
        threads = []
        for w in range(WORKERS):
            t = threading.Thread(target=worker, args=(client(srv, "s3", config_kw={
                "connect_timeout": 5, "read_timeout": 30}), bucket, keys[w], stop,
                random.Random(rnd.random())))
            t.start()
            threads.append(t)
        time.sleep(rnd.uniform(0.2, 1.5))
        srv.kill()  # SIGKILL at a random moment
        stop.set()
        for t in threads:
            t.join(60)
            assert not t.is_alive()
        srv = nimbus_factory(data_dir=data_dir)
        started = time.time()
        cli = client(srv, "s3")
        check(cli, bucket, allkeys)
        left = orphans(data_dir, started - 3)
        assert not left, "cycle %d: orphan content files after the start-up scan: %s" % (cycle, left)
    # a last start after the scan's guard: every orphan is collected
    srv.stop()
    time.sleep(2.5)
    srv = nimbus_factory(data_dir=data_dir)
    check(client(srv, "s3"), bucket, allkeys)
    assert not orphans(data_dir, time.time() + 1)
