#!/bin/sh
# First start: make a self-signed certificate for "localhost" (an image carries no private key; each
# container or VM makes its own), then run nginx in the foreground.
set -e
if [ ! -s /etc/nginx/tls.crt ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout /etc/nginx/tls.key -out /etc/nginx/tls.crt
fi
exec /usr/sbin/nginx -c /etc/nginx/jeos-tls.conf -g 'daemon off;'
