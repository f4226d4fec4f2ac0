#!/bin/sh
# Sentinel rewrites its config file, so each pod writes its own from this template at start.
set -eu
conf=/data/sentinel.conf
cat > "$conf" <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $(hostname).redis-sentinel
sentinel monitor tessera redis-ha-0.redis-ha 6379 2
sentinel down-after-milliseconds tessera 5000
sentinel failover-timeout tessera 30000
sentinel parallel-syncs tessera 1
sentinel auth-pass tessera $REDIS_PASSWORD
CONF
exec redis-sentinel "$conf"
