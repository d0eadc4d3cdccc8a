# Shell functions for the scenarios, run by busybox sh in the VM before each
# step's scenario. A scenario prints a transcript, like a terminal session:
#   run CMD...      prints "$ CMD...", runs it (stderr merged), then
#                   "[exit N]" when N is not 0
#   note TEXT       prints "# TEXT": what the next commands show
#   start NAME CMD  starts CMD in the background, output to /tmp/NAME.out,
#                   and waits until it has printed its first line; prints
#                   "$ CMD &" and that line. Its PID is in $last_pid.
#   stop NAME SIG   sends SIG to it, waits for it, prints "[exit N]" if not 0

run() {
    echo "\$ $*"
    "$@" 2>&1
    status=$?
    [ "$status" -eq 0 ] || echo "[exit $status]"
    return 0
}

note() {
    echo
    echo "# $*"
}

start() {
    name=$1
    shift
    echo "\$ $* &"
    "$@" > "/tmp/$name.out" 2>&1 &
    last_pid=$!
    eval "pid_$name=$last_pid"
    i=0
    while [ ! -s "/tmp/$name.out" ] && [ $i -lt 500 ]; do
        usleep 10000
        i=$((i + 1))
    done
    head -n 1 "/tmp/$name.out"
}

stop() {
    eval "pid=\$pid_$1"
    kill -"$2" "$pid"
    # (busybox sh reports a job killed by a signal on stderr: not ours)
    { wait "$pid"; } 2> /dev/null
    status=$?
    tail -n +2 "/tmp/$1.out"
    [ "$status" -eq 0 ] || echo "[exit $status]"
    return 0
}
