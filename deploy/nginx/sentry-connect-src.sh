#!/bin/sh
# Compose's nginx, at start (mounted into the image's /docker-entrypoint.d): the web app's Sentry
# origin for prod.conf's Content-Security-Policy, from the DSN the web app was built with
# (VITE_SENTRY_DSN), written to /etc/nginx/chatlens.d/sentry.conf as
#   set $sentry_connect_src " https://o1.ingest.sentry.io";
# No DSN, no file: the page connects to its own origin only. A DSN that is not a plain http(s)
# URL stops nginx from starting rather than reaching its configuration (as the local stack does,
# chatlens.cli.stack.sentry_connect_src; the chart's twin is chatlens.web.sentryConnectSrc).
set -eu

dir=${CHATLENS_NGINX_INCLUDE_DIR:-/etc/nginx/chatlens.d}
dsn=${VITE_SENTRY_DSN:-}
mkdir -p "$dir"
rm -f "$dir/sentry.conf"
[ -n "$dsn" ] || exit 0

# scheme://[key@]host[:port][/path], with no space, quote or semicolon anywhere.
origin=$(printf '%s\n' "$dsn" | sed -nE \
    "s#^(https?)://([^/@[:space:];'\"]*@)?([A-Za-z0-9.-]+)(:[0-9]+)?(/[^[:space:];'\"]*)?\$#\\1://\\3\\4#p")
if [ -z "$origin" ] || [ "$(printf '%s\n' "$dsn" | wc -l)" -ne 1 ]; then
    echo "$0: VITE_SENTRY_DSN is not an http(s) URL: '$dsn'" >&2
    exit 1
fi
origin=$(printf '%s' "$origin" | tr '[:upper:]' '[:lower:]')
printf 'set $sentry_connect_src " %s";\n' "$origin" > "$dir/sentry.conf"
echo "$0: connect-src allows $origin (the web app's Sentry)"
