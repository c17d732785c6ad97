"""Integration harness: start a real nimbus server on a free port with a fresh data dir, and
drive it with the real clients (Debian's boto3 and aws CLI).

Fixtures:
  nimbus           a running server (function scope): .host .port .endpoint .data_dir .proc
  nimbus_factory   start servers with extra args/env: nimbus_factory(args=[...], env={...})
  boto             boto(service) -> a boto3 client for the `nimbus` fixture (test/test)
  aws              aws("sts", "get-caller-identity") -> parsed JSON output (raises on failure)
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NIMBUS_BIN", os.path.join(ROOT, "build", "nimbus"))
# NIMBUS_AWS_BIN runs the CLI tests with another aws CLI (e.g. a newer one, to find what it does
# differently); CI uses Debian's.
AWS_BIN = os.environ.get("NIMBUS_AWS_BIN") or ("/usr/bin/aws" if os.path.exists("/usr/bin/aws") else "aws")
ASAN = os.environ.get("NIMBUS_ASAN") == "1"
LONG = os.environ.get("NIMBUS_LONG") == "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args=(), env=None, data_dir=None, port=None, host="127.0.0.1"):
        self.host = host
        self.fixed_port = port is not None
        self.port = port or free_port()
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="nimbus-test-")
        self.args = list(args)
        self.env = dict(env or {})
        self.proc = None
        self.started = False  # became healthy: its exit status is checked under sanitizers
        self.killed = False   # killed on purpose (crash tests): its exit status is not
        self.log_path = os.path.join(self.data_dir, "server.log")

    @property
    def endpoint(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self, timeout=20, attempts=3):
        # A port picked free can be taken by a parallel test before we bind it: retry on
        # "address in use" with a fresh port (only when the test did not choose the port).
        for attempt in range(attempts):
            try:
                return self._start(timeout)
            except RuntimeError as e:
                if "in use" not in str(e) or self.fixed_port or attempt == attempts - 1:
                    raise
                self.port = free_port()

    def _start(self, timeout):
        env = dict(os.environ)
        env.update(self.env)
        if ASAN:
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=86")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        cmd = [BIN, "serve", "--host", self.host, "--port", str(self.port),
               "--data-dir", self.data_dir] + self.args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nimbus exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                with urllib.request.urlopen(self.endpoint + "/_nimbus/health", timeout=1) as r:
                    # 200 comes at once; "ok" once every service has opened its state
                    if r.status == 200 and json.loads(r.read()).get("status") == "ok":
                        self.started = True
                        return self
            except Exception:
                time.sleep(0.02)
        raise RuntimeError("nimbus did not become healthy:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("nimbus did not stop on %s" % sig)
        rc = self.proc.returncode if self.proc else 0
        if self.log:
            self.log.close()
            self.log = None
        return rc

    def kill(self):
        self.killed = True
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture
def nimbus_factory():
    servers = []

    def make(args=(), env=None, data_dir=None, port=None, start=True):
        s = Server(args, env, data_dir, port)
        servers.append(s)
        return s.start() if start else s

    yield make
    failures = []
    for s in servers:
        try:
            rc = s.stop()
            if ASAN and s.started and not s.killed and rc not in (0, None, -signal.SIGTERM):
                failures.append("server exited %s under sanitizers:\n%s" % (rc, s.read_log()))
        finally:
            s.cleanup()
    if failures:
        pytest.fail("\n".join(failures))


@pytest.fixture
def nimbus(nimbus_factory):
    return nimbus_factory()


def client(server, service, access_key="test", secret_key="test", token=None, region="us-east-1", **kw):
    import boto3
    from botocore.config import Config
    cfg = Config(retries={"max_attempts": 1}, **kw.pop("config_kw", {}))
    return boto3.client(service, endpoint_url=server.endpoint, region_name=region,
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        aws_session_token=token, config=cfg, **kw)


# Client-side validation off, so that the server sees the bad input.
NOVALID = {"config_kw": {"parameter_validation": False}}


def error_of(fn, **kw):
    """The Error dict (Code, Message ...) of the ClientError fn(**kw) raises."""
    return client_error(fn, **kw)["Error"]


def client_error(fn, **kw):
    """The whole response of the ClientError fn(**kw) raises."""
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response


def call_error(fn, **kw):
    """(HTTP status, error code, message) of the ClientError fn(**kw) raises."""
    r = client_error(fn, **kw)
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


@pytest.fixture
def boto(nimbus):
    def make(service, **kw):
        return client(nimbus, service, **kw)
    return make


class AwsCliError(Exception):
    def __init__(self, rc, stdout, stderr):
        super().__init__("aws exited %d: %s %s" % (rc, stdout, stderr))
        self.rc, self.stdout, self.stderr = rc, stdout, stderr


def run_aws(server, *args, access_key="test", secret_key="test", region="us-east-1", check=True,
            parse=True, input=None):
    # PYTHONPATH is the test's own (it may point boto3 at another botocore): not the CLI's
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    env.update({"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key,
                "AWS_DEFAULT_REGION": region, "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_MAX_ATTEMPTS": "1"})
    cmd = [AWS_BIN, "--endpoint-url", server.endpoint, "--output", "json"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, input=input, timeout=600)
    if check and p.returncode != 0:
        raise AwsCliError(p.returncode, p.stdout, p.stderr)
    if not parse:
        return p
    return json.loads(p.stdout) if p.stdout.strip() else {}


@pytest.fixture
def aws(nimbus):
    def run(*args, **kw):
        return run_aws(nimbus, *args, **kw)
    return run
