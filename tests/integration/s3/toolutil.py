"""Driving Debian's third-party S3 clients (aws s3, s3cmd, rclone) against a test server:
their configs in the test's tmp dir, a clean environment, a tree of awkward key names, the
region clock, and a forwarding HTTP proxy so the tools can use virtual-hosted-style addresses
(<bucket>.localhost does not resolve here; through a proxy the tool never resolves it)."""
import json
import os
import shutil
import socket
import subprocess
import threading
import urllib.request

import pytest

from conftest import AWS_BIN

HAVE_TOOLS = bool(shutil.which("s3cmd") and shutil.which("rclone"))
need_tools = pytest.mark.skipif(not HAVE_TOOLS, reason="s3cmd and rclone come from tools/deps.sh")

# Key names that trip URL encoding, signing (SigV2's and SigV4's canonical forms differ) and
# listing: spaces (two in a row), '+' (a space in a query string), a literal '%20', '&', '=',
# '?', '#', brackets, quotes, non-ASCII.
AWKWARD = ["a+b.txt", "c%20d.txt", "e&f=g.txt", "two  spaces.txt", "q?x#h.txt", "br[1](2).txt",
           "it's \"q\".txt", "n\u00e4me \u00fc+\u00df.txt", "dir with space/\u65e5\u672c.txt",
           "~tilde,comma;semi@at$dollar!.txt"]


def clean_env(home):
    # AWS_* (AWS_CA_BUNDLE in particular: rclone's SDK refuses a CA bundle on plain http),
    # proxies and the user's own tool configs must not leak into the run
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RCLONE_", "S3CMD_")) and k != "PYTHONPATH"
           and k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    env["HOME"] = str(home)
    return env


def make_tree(root, names=AWKWARD):
    files = {}
    for i, rel in enumerate(names):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = ("%d %s\n" % (i, rel)).encode()
        p.write_bytes(data)
        files[rel] = data
    return files


def read_tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run(cmd, env, check=True, input=None, text=True):
    p = subprocess.run(cmd, capture_output=True, text=text, env=env, input=input, timeout=300)
    if check:
        assert p.returncode == 0, (cmd, p.stdout, p.stderr)
    return p


class Aws:
    """The aws CLI with its own config file (s3 transfer settings go there)."""

    def __init__(self, server, tmp, endpoint=None):
        self.endpoint = endpoint or server.endpoint
        self.env = clean_env(tmp)
        self.env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                         "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                         "AWS_CONFIG_FILE": str(tmp / "aws-config"),
                         "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
                         "AWS_MAX_ATTEMPTS": "1"})

    def configure(self, name, value):
        run([AWS_BIN, "configure", "set", name, value], self.env)

    def __call__(self, *args, check=True, input=None, text=True):
        return run([AWS_BIN, "--endpoint-url", self.endpoint, "--output", "json"]
                   + list(args), self.env, check=check, input=input, text=text)

    def json(self, *args):
        out = self(*args).stdout
        return json.loads(out) if out.strip() else {}


class S3cmd:
    def __init__(self, server, tmp, vhost_proxy=None, name="s3cfg"):
        self.cfg = tmp / name
        hostport = "%s:%d" % (server.host, server.port)
        lines = ["[default]", "access_key = test", "secret_key = test", "use_https = False",
                 "bucket_location = us-east-1", "progress_meter = False"]
        if vhost_proxy:
            # AWS's default style: the bucket in the host name, reached through the proxy
            lines += ["host_base = localhost:%d" % server.port,
                      "host_bucket = %%(bucket)s.localhost:%d" % server.port,
                      "proxy_host = 127.0.0.1", "proxy_port = %d" % vhost_proxy.port]
        else:
            lines += ["host_base = " + hostport, "host_bucket = " + hostport]
        self.cfg.write_text("\n".join(lines) + "\n")
        self.env = clean_env(tmp)

    def __call__(self, *args, check=True, input=None):
        return run(["s3cmd", "-c", str(self.cfg)] + list(args), self.env, check=check,
                   input=input)


class Rclone:
    def __init__(self, server, tmp, vhost_proxy=None):
        (tmp / "rclone.conf").write_text("")
        self.env = clean_env(tmp)
        self.env.update({"RCLONE_CONFIG": str(tmp / "rclone.conf"),
                         "RCLONE_CONFIG_NB_TYPE": "s3", "RCLONE_CONFIG_NB_PROVIDER": "Other",
                         "RCLONE_CONFIG_NB_ENDPOINT": server.endpoint,
                         "RCLONE_CONFIG_NB_ACCESS_KEY_ID": "test",
                         "RCLONE_CONFIG_NB_SECRET_ACCESS_KEY": "test",
                         "RCLONE_CONFIG_NB_REGION": "us-east-1"})
        if vhost_proxy:
            # Go's proxy rule skips "localhost" itself but not <bucket>.localhost
            self.env.update({"RCLONE_CONFIG_NB_ENDPOINT": "http://localhost:%d" % server.port,
                             "RCLONE_CONFIG_NB_FORCE_PATH_STYLE": "false",
                             "HTTP_PROXY": "http://127.0.0.1:%d" % vhost_proxy.port})

    def __call__(self, *args, check=True, text=True):
        return run(["rclone"] + list(args), self.env, check=check, text=text)


def advance_clock(server, spec):
    req = urllib.request.Request(server.endpoint + "/_nimbus/clock",
                                 data=json.dumps({"advance": spec}).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def anon_get(url, proxy=None):
    """(status, body) of an unsigned GET."""
    handlers = [urllib.request.ProxyHandler({"http": proxy} if proxy else {})]
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class VhostProxy:
    """A plain-HTTP forward proxy to one server: it turns the absolute-form request line
    ("GET http://b.localhost:p/k") into origin-form, keeps the Host header (what the tool
    signed) and closes after one exchange, so every request line passes through here."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.requests = []  # (method, host) seen, for asserting the style used
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(c,), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _handle(self, c):
        with c:
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            head, rest = buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            method, uri, version = lines[0].split(b" ", 2)
            if uri.startswith(b"http://"):
                tail = uri[len(b"http://"):]
                uri = b"/" + tail.split(b"/", 1)[1] if b"/" in tail else b"/"
            headers = [h for h in lines[1:]
                       if not h.lower().startswith((b"connection:", b"proxy-connection:"))]
            for h in headers:
                if h.lower().startswith(b"host:"):
                    self.requests.append((method.decode(), h[5:].strip().decode()))
            with socket.create_connection(self.target) as s:
                s.sendall(b"\r\n".join([b" ".join([method, uri, version])] + headers
                                       + [b"Connection: close"]) + b"\r\n\r\n" + rest)
                t = threading.Thread(target=self._pipe, args=(c, s), daemon=True)
                t.start()
                self._pipe(s, c)

    def close(self):
        self.sock.close()


@pytest.fixture
def vhost_proxy(nimbus):
    p = VhostProxy(nimbus.port)
    yield p
    p.close()
