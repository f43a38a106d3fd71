#!/usr/bin/env bash
# zabkeeper's container entrypoint: the official ZooKeeper image's docker-entrypoint.sh, variable for
# variable, so the same `docker run -e ZOO_...` and compose files work. It writes the zoo.cfg that
# image writes (only if none is mounted), writes myid (only if absent), runs /docker-entrypoint.d/,
# then execs the command as PID 1 (SIGTERM stops the server gracefully).
set -eo pipefail

: "${ZOO_CONF_DIR:=/conf}"
: "${ZOO_DATA_DIR:=/data}"
: "${ZOO_DATA_LOG_DIR:=/datalog}"
: "${ZOO_LOG_DIR:=/logs}"
: "${ZOO_TICK_TIME:=2000}"
: "${ZOO_INIT_LIMIT:=5}"
: "${ZOO_SYNC_LIMIT:=2}"
: "${ZOO_AUTOPURGE_PURGEINTERVAL:=0}"
: "${ZOO_AUTOPURGE_SNAPRETAINCOUNT:=3}"
: "${ZOO_MAX_CLIENT_CNXNS:=60}"
: "${ZOO_STANDALONE_ENABLED:=true}"
: "${ZOO_ADMINSERVER_ENABLED:=true}"
: "${ZOO_ENTRYPOINT_D:=/docker-entrypoint.d}"
: "${ZOO_USER:=zabkeeper}"
export ZOO_CONF_DIR ZOO_DATA_DIR ZOO_DATA_LOG_DIR ZOO_LOG_DIR

# Started as root (docker run --user 0, or a runtime that ignores USER): own the volumes, then run
# everything below as the image's unprivileged user, as the official image does with gosu.
if [[ "$(id -u)" = '0' && "${1:-}" = 'zabkeeper' ]] && id -u "$ZOO_USER" >/dev/null 2>&1; then
    mkdir -p "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR" "$ZOO_CONF_DIR"
    chown -R "$ZOO_USER:$ZOO_USER" "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR" "$ZOO_CONF_DIR"
    exec setpriv --reuid="$ZOO_USER" --regid="$ZOO_USER" --init-groups "$0" "$@"
fi

# /docker-entrypoint.d/: *.envsh files are sourced (they may set ZOO_* variables, e.g. ZOO_MY_ID
# from a StatefulSet pod's ordinal), executable *.sh files are run, in name order.
if [[ -d "$ZOO_ENTRYPOINT_D" ]]; then
    for f in $(find "$ZOO_ENTRYPOINT_D" -mindepth 1 -maxdepth 1 -type f | sort); do
        case "$f" in
            *.envsh) echo "$0: sourcing $f" >&2; . "$f" ;;
            *.sh) if [[ -x "$f" ]]; then echo "$0: running $f" >&2; "$f"; else echo "$0: ignoring $f, not executable" >&2; fi ;;
            *) echo "$0: ignoring $f" >&2 ;;
        esac
    done
fi

mkdir -p "$ZOO_CONF_DIR" "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR"

# Generate the config only if it doesn't exist (a mounted zoo.cfg wins over every variable).
if [[ ! -f "$ZOO_CONF_DIR/zoo.cfg" ]]; then
    CONFIG="$ZOO_CONF_DIR/zoo.cfg"
    {
        echo "dataDir=$ZOO_DATA_DIR"
        echo "dataLogDir=$ZOO_DATA_LOG_DIR"

        echo "tickTime=$ZOO_TICK_TIME"
        echo "initLimit=$ZOO_INIT_LIMIT"
        echo "syncLimit=$ZOO_SYNC_LIMIT"

        echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
        echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
        echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
        echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
        echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
    } >> "$CONFIG"
    if [[ -z "${ZOO_SERVERS:-}" ]]; then
        ZOO_SERVERS="server.1=localhost:2888:3888;2181"
    fi

    for server in $ZOO_SERVERS; do
        echo "$server" >> "$CONFIG"
    done

    if [[ -n "${ZOO_4LW_COMMANDS_WHITELIST:-}" ]]; then
        echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST" >> "$CONFIG"
    fi

    for cfg_extra_entry in ${ZOO_CFG_EXTRA:-}; do
        echo "$cfg_extra_entry" >> "$CONFIG"
    done
fi

# Write myid only if it doesn't exist
if [[ ! -f "$ZOO_DATA_DIR/myid" ]]; then
    echo "${ZOO_MY_ID:-1}" > "$ZOO_DATA_DIR/myid"
fi

# `zabkeeper server` reads the generated (or mounted) zoo.cfg, as zkServer.sh reads $ZOOCFGDIR/zoo.cfg.
if [[ "${1:-}" = 'zabkeeper' && "${2:-}" = 'server' && " $* " != *' --config '* && " $* " != *' -c '* ]]; then
    set -- "$@" --config "$ZOO_CONF_DIR/zoo.cfg"
fi

exec "$@"
