#!/bin/sh
# redis-cluster-init HOST:PORT...
#
# Joins the given Redis nodes into one cluster of masters, unless they already form one, and
# exits 0 only once every node reports cluster_state:ok. Safe to run again: compose re-runs it
# before each `run` of a service that depends on it, on nodes that are already a cluster (where
# `redis-cli --cluster create` alone would fail with "Node … is not empty").
set -eu
[ "$#" -ge 1 ] || { echo "usage: redis-cluster-init HOST:PORT..." >&2; exit 2; }

field() { # field HOST:PORT NAME: a value from CLUSTER INFO
  redis-cli -h "${1%:*}" -p "${1##*:}" cluster info | tr -d '\r' | sed -n "s/^$2://p"
}

formed=yes
for node in "$@"; do
  if [ "$(field "$node" cluster_known_nodes)" != "$#" ] || [ "$(field "$node" cluster_slots_assigned)" != 16384 ]; then formed=no; fi
done
if [ "$formed" = yes ]; then
  echo "redis-cluster-init: the $# nodes already form a cluster"
else
  redis-cli --cluster create "$@" --cluster-replicas 0 --cluster-yes
fi

# Gossip takes a moment after `create`, and after a restart: wait for every node to agree.
tries=0
for node in "$@"; do
  until [ "$(field "$node" cluster_state)" = ok ]; do
    tries=$((tries + 1))
    [ "$tries" -le 120 ] || { echo "redis-cluster-init: $node is not cluster_state:ok after 60 s" >&2; exit 1; }
    sleep 0.5
  done
done
echo "redis-cluster-init: cluster_state:ok on all $# nodes"
