"""The nginx.conf of a test or benchmark server: one worker, everything it writes (pid, logs,
temporary files) under its own base directory, files served as application/octet-stream.
Shared by tests/conftest.py, the system tests and bench/fleet-load.py."""


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
