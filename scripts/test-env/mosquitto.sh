#!/usr/bin/env bash
# Starts/stops a private Mosquitto broker for QuakeWarn's MQTT integration tests.
# Loopback only, password authentication, no system service, nothing installed.
#
# Usage:
#   eval "$(scripts/test-env/mosquitto.sh start)"   # prints export lines on stdout
#   scripts/test-env/mosquitto.sh status            # exit 0 if the broker runs
#   scripts/test-env/mosquitto.sh stop              # SIGTERM (then SIGKILL after 5 s), removes the dir
#   scripts/test-env/mosquitto.sh kill              # SIGKILL at once, keeps the dir (crash test)
#
# Environment (all optional):
#   MQTT_TEST_PORT         port to listen on (default: a free port chosen here)
#   MQTT_TEST_DIR          reuse this directory (made by an earlier `start`): same config,
#                          port and password; used to restart a broker on the same port
#   MQTT_TEST_PERSISTENCE  "1" = keep sessions and queued messages in DIR/mosquitto.db across
#                          a graceful stop/start (default: persistence off)
#   MQTT_TEST_PIDFILE      for stop/status/kill (default: from MQTT_TEST_DIR)
#   MQTT_TEST_KEEP_DIR     "1" = `stop` keeps the directory
# Needs the Debian packages mosquitto (and mosquitto-clients for the tests); scripts/ensure-deps.sh
# installs them.
set -euo pipefail

log() { echo "mosquitto.sh: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pidfile_from_env() {
    if [ -n "${MQTT_TEST_PIDFILE:-}" ]; then
        echo "$MQTT_TEST_PIDFILE"
    elif [ -n "${MQTT_TEST_DIR:-}" ]; then
        echo "$MQTT_TEST_DIR/mosquitto.pid"
    else
        log "set MQTT_TEST_PIDFILE or MQTT_TEST_DIR"
        exit 2
    fi
}

running_pid() {
    local pidfile=$1 pid
    [ -s "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

cmd_start() {
    if ! command -v mosquitto >/dev/null 2>&1; then
        # Debian installs the daemon in /usr/sbin, which is not on every user's PATH.
        if [ -x /usr/sbin/mosquitto ]; then PATH="$PATH:/usr/sbin"; else
            log "mosquitto is not installed (apt-get install mosquitto mosquitto-clients)"
            exit 1
        fi
    fi
    local dir port user password
    if [ -n "${MQTT_TEST_DIR:-}" ] && [ -f "$MQTT_TEST_DIR/mosquitto.conf" ]; then
        dir=$MQTT_TEST_DIR
        # shellcheck disable=SC1091
        source "$dir/env.sh"
        port=$MQTT_TEST_PORT user=$MQTT_TEST_USER password=$MQTT_TEST_PASSWORD
        if pid=$(running_pid "$dir/mosquitto.pid"); then
            log "already running (pid $pid)"
            cat "$dir/env.sh"
            return 0
        fi
        rm -f "$dir/mosquitto.pid"
    else
        dir=$(mktemp -d "${TMPDIR:-/tmp}/quakewarn-mosquitto.XXXXXX")
        touch "$dir/.quakewarn-mosquitto"
        user=quakewarn-test
        password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
        if [ -n "${MQTT_TEST_PORT:-}" ]; then
            port=$MQTT_TEST_PORT
        else
            port=""
            for _ in $(seq 1 50); do
                # Below the Linux ephemeral range (32768-60999), so no outgoing connection owns it.
                candidate=$((20000 + RANDOM % 12000))
                if ! port_open "$candidate"; then port=$candidate; break; fi
            done
            [ -n "$port" ] || { log "no free port found"; exit 1; }
        fi
        mosquitto_passwd -b -c "$dir/passwd" "$user" "$password" >/dev/null 2>&1
        chmod 600 "$dir/passwd"
        {
            echo "# QuakeWarn test broker (scripts/test-env/mosquitto.sh)"
            echo "listener $port 127.0.0.1"
            echo "allow_anonymous false"
            echo "password_file $dir/passwd"
            if [ "${MQTT_TEST_PERSISTENCE:-0}" = "1" ]; then
                echo "persistence true"
                echo "persistence_location $dir/"
                echo "autosave_interval 0"
            else
                echo "persistence false"
            fi
            echo "pid_file $dir/mosquitto.pid"
            echo "log_dest file $dir/mosquitto.log"
            echo "log_type error"
            echo "log_type warning"
            echo "log_type notice"
            echo "log_type information"
            echo "connection_messages true"
            echo "max_queued_messages 100000"
            echo "max_inflight_messages 100"
            # Nagle off towards the clients (mosquitto's default is on), as an operator's broker
            # for warnings should be: with it, a PUBLISH to a subscriber can wait for the ACK of
            # the previous one when warnings come in bursts. (Two alternated e2e pairs on the
            # loaded 2-core VM showed no difference either way; MQTT_TEST_NODELAY=0 turns it off.)
            [ "${MQTT_TEST_NODELAY:-1}" = "1" ] && echo "set_tcp_nodelay true"
            echo "user $(id -un)"
        } >"$dir/mosquitto.conf"
        {
            echo "export MQTT_TEST_HOST=127.0.0.1"
            echo "export MQTT_TEST_PORT=$port"
            echo "export MQTT_TEST_USER=$user"
            echo "export MQTT_TEST_PASSWORD=$password"
            echo "export MQTT_TEST_PIDFILE=$dir/mosquitto.pid"
            echo "export MQTT_TEST_DIR=$dir"
        } >"$dir/env.sh"
    fi
    if port_open "$port"; then
        log "port $port is already in use"
        exit 1
    fi
    # The daemon must not inherit descriptors other than stdio: a caller that watches a pipe
    # for our exit (Foundation's Process does) would otherwise wait until the broker stops.
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        # Signals blocked by the caller are inherited too (libdispatch worker threads, which
        # spawn processes for Swift tests, block all of them); Mosquitto would then never see
        # SIGTERM and could not save its state on `stop`. perl (perl-base is Essential in
        # Debian) clears the mask and resets the dispositions before exec.
        if command -v perl >/dev/null 2>&1; then
            exec perl -MPOSIX -e '
                sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!";
                $SIG{$_} = "DEFAULT" for qw(TERM INT HUP USR1 USR2);
                exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!";
            ' mosquitto -d -c "$dir/mosquitto.conf"
        fi
        exec mosquitto -d -c "$dir/mosquitto.conf"
    )
    for _ in $(seq 1 100); do  # up to 5 s
        if port_open "$port" && [ -s "$dir/mosquitto.pid" ]; then
            cat "$dir/env.sh"
            log "broker pid $(cat "$dir/mosquitto.pid") on 127.0.0.1:$port (dir $dir)"
            return 0
        fi
        sleep 0.05
    done
    log "broker did not open port $port within 5 s; log follows"
    cat "$dir/mosquitto.log" >&2 2>/dev/null || true
    exit 1
}

cmd_stop() {
    local pidfile pid dir
    pidfile=$(pidfile_from_env)
    dir=$(dirname "$pidfile")
    if pid=$(running_pid "$pidfile"); then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid ignored SIGTERM for 5 s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
    if [ "${MQTT_TEST_KEEP_DIR:-0}" != "1" ] && [ -f "$dir/.quakewarn-mosquitto" ]; then
        rm -rf "$dir"
    fi
}

cmd_kill() {
    local pidfile pid
    pidfile=$(pidfile_from_env)
    if pid=$(running_pid "$pidfile"); then
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    fi
    rm -f "$pidfile"
}

cmd_status() {
    local pidfile pid
    pidfile=$(pidfile_from_env)
    if pid=$(running_pid "$pidfile"); then
        echo "running (pid $pid)"
    else
        echo "not running"
        return 1
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    kill) cmd_kill ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 start|stop|status|kill" >&2
        exit 2
        ;;
esac
