"""Write the chart's nginx.conf (deploy/helm/chatlens/files/nginx.conf) from the compose stacks'
deploy/nginx/prod.conf, so Kubernetes proxies exactly like compose: ``python
deploy/helm/sync_nginx_conf.py [prod.conf]``. Run it after changing prod.conf; the chart test
fails until then.

What changes for Kubernetes: nginx-unprivileged's port 8080, pid and temporary files in /tmp (the
root filesystem is read-only), the gateway's Service name, and the body size from values.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROD = HERE.parent / "nginx/prod.conf"
TARGET = HERE / "chatlens/files/nginx.conf"
HEADER = """\
# Chatlens nginx in Kubernetes (the chart's ConfigMap, rendered with `tpl`): the web app from
# /srv/web (copied from the web image by an init container) and the API proxied to the gateway
# Service. Generated from deploy/nginx/prod.conf by deploy/helm/sync_nginx_conf.py: do not edit.
# Unprivileged (nginxinc/nginx-unprivileged, UID 101): port 8080, pid and temporary files in /tmp,
# so the root filesystem stays read-only.

pid /tmp/nginx.pid;
"""
TEMP_PATHS = "".join(
    f"    {name}_temp_path /tmp/{name}_temp;\n"
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
)


def replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise SystemExit(f"prod.conf changed shape: expected {old!r} exactly once")
    return text.replace(old, new)


def kubernetes_conf(prod: str) -> str:
    body = prod[prod.index("worker_processes") :]
    body = replace_once(body, "http {\n", "http {\n" + TEMP_PATHS)
    comment = body[body.index("    # nginx resolves `gateway` once") : body.index("    upstream")]
    body = replace_once(
        body,
        comment,
        "    # The gateway's Service has a stable ClusterIP: resolving it once at start is safe.\n",
    )
    body = replace_once(
        body,
        "server gateway:8100;",
        'server {{ include "chatlens.name" (list . "gateway") }}:8100;',
    )
    body = replace_once(body, "listen 881;", "listen 8080;")
    body = replace_once(
        body, "client_max_body_size 200m;", "client_max_body_size {{ .Values.nginx.maxBodySize }};"
    )
    return HEADER + body.replace("exceeds 200m", "exceeds {{ .Values.nginx.maxBodySize }}")


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else PROD
    TARGET.write_text(kubernetes_conf(source.read_text()))
