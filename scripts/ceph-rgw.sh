#!/usr/bin/env bash
# (Berth's copy of ../shared/recipes/ceph-rgw.sh, for a clone without shared/: 'osd new' retried until the
# monitor answers, and tcp_nodelay on the gateway: without it every small response waits 40 ms for a delayed ACK.)
# A throwaway single-node S3 store: Ceph's RADOS Gateway on one monitor and one in-memory OSD.
#   ceph-rgw.sh start DIR   make the cluster in DIR, start it, create a user, print exports to eval:
#                           S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION
#   ceph-rgw.sh stop DIR    stop the daemons (their data is in memory: it is gone after stop)
#   ceph-rgw.sh env DIR     print the exports again for a running gateway
# Installs Debian's radosgw, ceph-mon and ceph-osd on first use (daemons are not started by the
# package: policy-rc.d). Listens on 127.0.0.1 only; auth none inside the cluster, S3 SigV4 at the gateway.
# About 15 s to ready and ~200 MB of memory, plus what is stored: objects live in memory, RGW_MEMSTORE_GB
# (default 8) at most. Buckets are created by the client (aws s3 mb, CreateBucket).
# Example: eval "$(../shared/recipes/ceph-rgw.sh start /tmp/rgw)"; aws --endpoint-url "$S3_ENDPOINT" s3 mb s3://berth
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|env DIR" >&2; exit 2; }

if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null; then
  echo "ceph-rgw.sh: installing radosgw ceph-mon ceph-osd from Debian's packages" >&2
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq radosgw ceph-mon ceph-osd) >&2
fi

mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
conf=$dir/ceph.conf
ACCESS=berthtestaccesskey SECRET=berthtestsecretkey0000000000000000000000

print_env() {
  echo "export S3_ENDPOINT=http://127.0.0.1:$(cat "$dir/rgw.port")"
  echo "export AWS_ACCESS_KEY_ID=$ACCESS AWS_SECRET_ACCESS_KEY=$SECRET AWS_DEFAULT_REGION=us-east-1"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# running and not a zombie (a daemon's exit is only reaped by whoever started this shell)
alive() { [ -r "/proc/$1/stat" ] && ! awk '{exit $3=="Z"?0:1}' "/proc/$1/stat"; }
stop_all() {
  for p in "$dir"/run/*.pid; do
    [ -e "$p" ] || continue
    pid=$(cat "$p"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null; rm -f "$p"
  done
}

case $cmd in
start)
  if [ -s "$dir/rgw.port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$(cat "$dir/rgw.port")/" 2>/dev/null; then print_env; exit 0; fi
  stop_all
  rm -rf "$dir/mon" "$dir/osd" "$dir/run" "$dir/log"; mkdir -p "$dir/mon/a" "$dir/osd/0" "$dir/run" "$dir/log"
  mon_port=$(free_port); rgw_port=$(free_port); echo "$rgw_port" >"$dir/rgw.port"
  fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
[mon]
mon data = $dir/mon/\$id
[osd]
osd data = $dir/osd/\$id
osd objectstore = memstore
memstore device bytes = $(( ${RGW_MEMSTORE_GB:-8} * 1024 * 1024 * 1024 ))
osd max object size = 134217728
[client]
ms mon client mode = crc
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $dir/run/rgw
rgw dns name = 127.0.0.1
CONF
  log() { echo "ceph-rgw.sh: $*" >&2; }
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" 2>>"$dir/log/setup.log"
  ceph-mon -c "$conf" -i a
  log "monitor up on 127.0.0.1:$mon_port"
  osd_uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  # The monitor may refuse commands for a moment after it starts ("EPERM: problem getting command descriptions").
  id=''
  for _ in $(seq 30); do
    if id=$(ceph -c "$conf" osd new "$osd_uuid" 2>/dev/null) && [ -n "$id" ]; then break; fi
    id=''; sleep 1
  done
  [ -n "$id" ] || { echo "ceph-rgw.sh: the monitor never accepted 'osd new'" >&2; exit 1; }
  ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$osd_uuid" 2>>"$dir/log/setup.log"
  ceph -c "$conf" osd crush add-bucket localhost host >/dev/null 2>&1 || true
  ceph -c "$conf" osd crush move localhost root=default >/dev/null 2>&1 || true
  # a young monitor now and then turns the OSD's first boot away ('wrong fsid'): try again
  for try in 1 2 3 4 5; do ceph-osd -c "$conf" -i "$id" 2>>"$dir/log/setup.log" && break; sleep 1; done
  for _ in $(seq 120); do ceph -c "$conf" osd stat 2>/dev/null | grep -q '1 up' && break; sleep 0.5; done
  log "osd.$id up"
  radosgw -c "$conf" -n client.rgw.a
  for _ in $(seq 120); do curl -fsS -o /dev/null "http://127.0.0.1:$rgw_port/" 2>/dev/null && break; sleep 0.5; done
  curl -fsS -o /dev/null "http://127.0.0.1:$rgw_port/" || { log "gateway did not answer; see $dir/log"; exit 1; }
  radosgw-admin -c "$conf" -n client.rgw.a user create --uid=berth --display-name=berth \
    --access-key="$ACCESS" --secret-key="$SECRET" >/dev/null 2>>"$dir/log/setup.log"
  log "gateway up on 127.0.0.1:$rgw_port"
  print_env ;;
stop)
  stop_all; rm -f "$dir/rgw.port" ;;
env)
  print_env ;;
*) echo "usage: $0 start|stop|env DIR" >&2; exit 2 ;;
esac
