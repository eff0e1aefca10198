"""Helpers for running modules in-process and a real local HTTP server for them to probe."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.module_utils.testing import patch_module_args


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_local_playbook(tmp_path, hosts, playbook, extra_vars=None, args=()):
    """Run ``playbook`` (YAML text) with this checkout's ansible.cfg over ``hosts`` ({name: vars}, each
    a local connection); ``out_dir`` (tmp_path) is an extra var. The finished process."""
    inventory = {"all": {"hosts": dict((name, dict(spec, ansible_connection="local",
                                                   ansible_python_interpreter=sys.executable))
                                       for name, spec in hosts.items())}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(playbook)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    extra = dict(extra_vars or {}, out_dir=str(tmp_path))
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(tmp_path / "inventory.json"), str(tmp_path / "play.yml"), "-e", json.dumps(extra)]
                          + list(args), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


def run_module(main, args, monkeypatch, check_mode=False):
    """Run a module's main() with ``args``; return (result, failed)."""
    from ansible.module_utils import basic

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, msg, **kwargs):
        kwargs["msg"] = msg
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as caught:
            main()
    return caught.value.result, caught.value.failed


class Route:
    def __init__(self, status=200, body="", headers=None, delay=0.0, content_type="application/json"):
        self.status = status
        self.body = body if isinstance(body, (str, bytes)) else json.dumps(body)
        self.headers = list(headers or [])
        self.delay = delay
        self.content_type = content_type


class LocalServer:
    """A real HTTP server on 127.0.0.1 whose routes tests set."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                server.requests.append((self.command, self.path, dict(self.headers), body))
                route = server.routes.get(self.path) or Route(404, {"detail": "Not Found"})
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for name, value in route.headers:
                    self.send_header(name, value)
                payload = route.body if isinstance(route.body, bytes) else route.body.encode()
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = LocalServer()
    yield srv
    srv.close()


@pytest.fixture
def closed_port():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
