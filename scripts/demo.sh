#!/usr/bin/env bash
# make demo: the main job on embedded defaults. A master and a minion on
# loopback, their state in ./.demo, the minion's key accepted with
# brine-key, then `brine '*' test.ping`; both stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

root=$PWD/.demo
rm -rf "$root"
mkdir -p "$root/master/etc" "$root/minion/etc"

# Two free loopback ports (a port answers when something listens on it).
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 100))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port near $1" >&2; exit 1
}
ret=$(free_port 24506)
pub=$(free_port $((ret + 1)))

cat > "$root/master/etc/master" <<CONF
root_dir: $root/master
interface: 127.0.0.1
ret_port: $ret
publish_port: $pub
CONF
cat > "$root/minion/etc/minion" <<CONF
root_dir: $root/minion
id: demo-minion
master: 127.0.0.1
master_port: $ret
publish_port: $pub
acceptance_wait_time: 1
random_reauth_delay: 0
CONF

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# wait_for CMD...: retry CMD for up to 30 s (the daemons start in the background).
wait_for() {
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: gave up waiting for: $*" >&2
  echo "--- master log"; cat "$root/master.log" >&2
  echo "--- minion log"; cat "$root/minion.log" >&2
  exit 1
}

echo "==> brine-master (state in .demo/master, ports $ret/$pub)"
bin/brine-master -c "$root/master/etc" >"$root/master.log" 2>&1 &
pids+=($!)
wait_for test -S "$root/master/var/run/brine/master/master_event_pub.ipc"

echo "==> brine-minion demo-minion (state in .demo/minion)"
bin/brine-minion -c "$root/minion/etc" >"$root/minion.log" 2>&1 &
pids+=($!)
wait_for sh -c "bin/brine-key -c '$root/master/etc' -l pre | grep -qx demo-minion"

echo "==> brine-key -L"
bin/brine-key -c "$root/master/etc" -L
echo "==> brine-key -a demo-minion -y"
bin/brine-key -c "$root/master/etc" -a demo-minion -y
wait_for bin/brine -c "$root/master/etc" -t 2 --out quiet '*' test.ping

echo "==> brine '*' test.ping"
bin/brine -c "$root/master/etc" '*' test.ping
echo "==> brine '*' cmd.run 'uname -sm'"
bin/brine -c "$root/master/etc" '*' cmd.run 'uname -sm'
echo "==> done; stopping the master and the minion"
