# Shell functions for the scenarios, run by busybox sh in the VM before each
# step's scenario. A scenario prints a transcript, like a terminal session.
# Debian's busybox sh runs its own applets before anything in PATH: a
# program of the VM that busybox also provides (ip) must be named by its
# path (/bin/ip). Commands are given as one string, shown as written ("$ cmpns $$ $child",
# not the PIDs it expands to) and run with eval, so pipes and variables work.
#
#   run 'CMD'            prints "$ CMD", runs it (stderr merged), then
#                        "[exit N]" when N is not 0
#   note TEXT            prints "# TEXT": what the next commands show
#   start NAME 'CMD'     starts CMD in the background, output to
#                        /tmp/NAME.out, waits for its first line and prints
#                        "$ CMD &" and that line; its PID is in $NAME
#   spawn NAME COMM 'CMD'  starts CMD in the background, silently, and waits
#                        until the process has exec'd COMM; its PID is in $NAME
#   child_exec VAR PID COMM  waits until the first child of PID has exec'd
#                        COMM (the program a runner forks); its PID is in VAR
#                        (PID itself if it execs COMM without a fork)
#   stop NAME SIG        sends SIG to NAME, waits for it, prints the rest of
#                        its output and "[exit N]" when N is not 0
#   finish NAME 'CMD'    prints "$ CMD; wait $NAME", runs CMD (which ends NAME),
#                        waits for NAME, prints the rest of its output (what it
#                        wrote after its first line, errors included) and
#                        "[exit N]" when N is not 0
#   try 'CMD' 'REGEX'    like run, for a program that should fail at once but,
#                        when wrong, may go on and wait for a signal: should
#                        its first line match REGEX, it gets SIGTERM
#
# None of them sleeps for a while: each waits for the event itself (a line,
# an exec, an exit), so that a transcript never depends on timing.

run() {
    echo "\$ $1"
    eval "$1" 2>&1
    status=$?
    [ "$status" -eq 0 ] || echo "[exit $status]"
    return 0
}

note() {
    echo
    echo "# $*"
}

# Under emulation every fork and exec costs milliseconds of the VM's one
# CPU, which the program under test needs: what the functions below do
# while they wait is the shell's own (read, test, kill), never a command.
#
#   line VAR FILE        VAR=the first line of FILE, empty when FILE cannot be
#                        read (a process that is gone): $(cat FILE) without
#                        its fork
#   pause                waits 10 ms: a read that times out on a FIFO nobody
#                        writes (usleep would fork)
#   seconds              $now=whole seconds since the VM booted (date forks)
line() {
    eval "$1="
    { read -r "$1" < "$2"; } 2> /dev/null
    return 0
}

mkfifo /tmp/.pause
pause() {
    read -t 0.01 _ <> /tmp/.pause
}

seconds() {
    read -r now _ < /proc/uptime
    now=${now%.*}
}

# Wait until a condition holds, for 15 s at most (a loaded machine under
# TCG is slow) or the seconds given. Every condition also holds once what
# it waits for can no longer happen (the process it waits on is gone), so
# that no run waits out the limit for the dead; one that does says so on
# stderr, which the transcript shows.
await() {
    seconds
    deadline=$((now + ${2:-15}))
    while ! eval "$1"; do
        seconds
        if [ "$now" -ge $deadline ]; then
            echo "(gave up waiting after ${2:-15} s for: $1)" >&2
            return 1
        fi
        pause
    done
}

start() {
    echo "\$ $2 &"
    rm -f "/tmp/$1.out"
    eval "exec $2" > "/tmp/$1.out" 2>&1 &
    eval "$1=$!"
    # (or until it dies without a word)
    await "[ -s /tmp/$1.out ] || ! kill -0 $! 2>/dev/null"
    head -n 1 "/tmp/$1.out"
}

spawn() {
    eval "exec $3" > /dev/null 2>&1 &
    eval "$1=$!"
    # (or until it dies before it gets there)
    await "{ line comm /proc/$!/comm; [ \"\$comm\" = $2 ]; } || ! kill -0 $! 2>/dev/null"
}

child_exec() {
    # (or until PID itself has exec'd COMM, having forked no child, a
    # mistake: then VAR is PID; or until PID dies before its child gets there)
    await "{ kid=; { read -r kid _ < /proc/$2/task/$2/children; } 2>/dev/null; line comm /proc/\${kid:-0}/comm; [ \"\$comm\" = $3 ]; } || { line comm /proc/$2/comm; [ \"\$comm\" = $3 ] && kid=$2; } || ! kill -0 $2 2>/dev/null"
    eval "$1=\$kid"
}

# (busybox sh reports a job killed by a signal on stderr: not ours)
reap() {
    eval "pid=\$$1"
    { wait "$pid"; } 2> /dev/null
    status=$?
    [ -f "/tmp/$1.out" ] && tail -n +2 "/tmp/$1.out"
    [ "$status" -eq 0 ] || echo "[exit $status]"
    return 0
}

stop() {
    eval "kill -$2 \$$1"
    reap "$1"
}

finish() {
    echo "\$ $2; wait \$$1"
    eval "$2" 2>&1
    reap "$1"
}

try() {
    echo "\$ $1"
    rm -f /tmp/try.out
    eval "exec $1" > /tmp/try.out 2>&1 &
    pid=$!
    await "[ -s /tmp/try.out ] || ! kill -0 $pid 2>/dev/null"
    head -n 1 /tmp/try.out | grep -q "$2" && kill -TERM $pid
    { wait "$pid"; } 2> /dev/null
    status=$?
    cat /tmp/try.out
    [ "$status" -eq 0 ] || echo "[exit $status]"
    return 0
}
