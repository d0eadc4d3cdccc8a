# Step sem: the same System V key in one IPC namespace, then in two.

note "One IPC namespace: the second sem cannot create key 0x12345 again"
start first 'sem'
# (a second sem that got a set would wait for a signal too: try stops it)
try 'sem' '^Semaphore id'
run 'ipcs -s'

note "SIGTERM: the first sem removes its semaphore set before it dies"
echo '$ kill -TERM $first'
stop first TERM
run 'cat /proc/sysvipc/sem'

note "Two new IPC namespaces: each sem creates its own set, with id 0"
start left 'unshare --ipc sem'
start right 'unshare --ipc sem'
echo '$ kill -TERM $left $right'
stop left TERM
stop right TERM
