#!/usr/bin/env bash
# Installs Debian's nginx if it is missing, then runs the nginx scenario of recryptd_tests with
# deploy/nginx/recryptd.conf. Usage: nginx_test.sh PATH/TO/recryptd_tests PATH/TO/recryptd.conf
set -euo pipefail
tests=$1
conf=$2
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "nginx_test: installing nginx-light"
    $sudo apt-get update -qq
    # the package's own service must not start: the test runs its own nginx on loopback
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod 755 /usr/sbin/policy-rc.d
        trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx) RECRYPTD_NGINX_CONF=$conf "$tests" "[.nginx]"
