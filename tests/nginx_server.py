"""nginx for the tests and benchmarks: its nginx.conf (one worker, everything it writes -- pid,
logs, temporary files -- under its own base directory, files served as
application/octet-stream), and starting it in the foreground on free loopback ports and
stopping it. Shared by tests/conftest.py, the system tests and bench/fleet-load.py."""

import os
import socket
import subprocess
import time

NGINX_BIN = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(ports):
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
    return True


def start_nginx(base, make_conf, n_ports=1, attempts=5):
    """Write base/nginx.conf = make_conf(ports) for n_ports free loopback ports and start
    nginx on it in the foreground (our child: stop_nginx() ends it), its output in
    base/nginx.stdout. When a port was taken in between, it tries again with new ones.
    Returns (the Popen, the ports); raises RuntimeError with nginx's error log when it did
    not start."""
    base = str(base)
    conf = os.path.join(base, "nginx.conf")
    for _ in range(attempts):
        ports = [free_port() for _ in range(n_ports)]
        with open(conf, "w") as f:
            f.write(make_conf(ports))
        with open(os.path.join(base, "nginx.stdout"), "wb") as out:
            proc = subprocess.Popen([NGINX_BIN, "-p", base, "-e",
                                     os.path.join(base, "error.log"), "-c", conf,
                                     "-g", "daemon off;"],
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if _listening(ports):
                return proc, ports
            time.sleep(0.05)
        stop_nginx(proc)
    logs = ""
    for name in ("error.log", "nginx.stdout"):
        try:
            with open(os.path.join(base, name), errors="replace") as f:
                logs += f.read()
        except OSError:
            pass
    raise RuntimeError("nginx did not start:\n" + logs)


def stop_nginx(proc):
    """SIGTERM to the master (fast shutdown), SIGKILL if it lingers; None is fine."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def nginx_conf(base, log_format, servers, connections=256, error_level="info", http_extra=""):
    """The whole file. log_format is the access log's format, named "main" (each server may
    log to its own file with it: `access_log PATH main;`; the default is base/access.log);
    servers is the text of the server blocks, http_extra more lines of the http block. base
    must hold a directory tmp/."""
    return """\
user www-data;
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log {error_level};
events {{ worker_connections {connections}; }}
http {{
    log_format main '{log_format}';
    access_log {base}/access.log main;
    client_body_temp_path {base}/tmp/client_body;
    proxy_temp_path {base}/tmp/proxy;
    fastcgi_temp_path {base}/tmp/fastcgi;
    uwsgi_temp_path {base}/tmp/uwsgi;
    scgi_temp_path {base}/tmp/scgi;
    types {{ }}
    default_type application/octet-stream;
""".format(base=base, error_level=error_level, connections=connections,
           log_format=log_format) + http_extra + servers + "}\n"
