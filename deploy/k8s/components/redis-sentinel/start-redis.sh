#!/bin/sh
# A redis-ha pod starts as a replica of whatever primary the sentinels name; only when no
# sentinel answers yet (the first start of the set) does redis-ha-0 start as the primary.
set -eu
self="$(hostname).redis-ha"
primary=""
for i in 0 1 2; do
  answer="$(redis-cli -h "redis-sentinel-$i.redis-sentinel" -p 26379 --raw sentinel get-master-addr-by-name tessera 2>/dev/null | head -n 1 || true)"
  if [ -n "$answer" ]; then primary="$answer"; break; fi
done
if [ -z "$primary" ] && [ "$(hostname)" != "redis-ha-0" ]; then primary="redis-ha-0.redis-ha"; fi
set -- redis-server --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
  --replica-announce-ip "$self" --dir /data --maxmemory 1gb \
  --requirepass "$REDIS_PASSWORD" --masterauth "$REDIS_PASSWORD"
if [ -n "$primary" ] && [ "$primary" != "$self" ]; then set -- "$@" --replicaof "$primary" 6379; fi
exec "$@"
