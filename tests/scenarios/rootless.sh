# Step rootless: the container of step 7, started by student (uid 1000), a
# user with no privilege: a new user namespace makes its child root inside.
cd /

# rootless prints its first line (its child's PID) before it writes the
# child's maps. Through grun, that line goes into a pipe that is already
# full (16 pages of zeros), which /tmp/gate empties only once the child is
# blocked reading a pipe whose other end its parent holds, or has exec'd,
# or has ended (or, when there is no child, once rootless is blocked
# writing). A child that does not wait for its maps then execs before them
# every time, not only when it happens to be fast.
cat > /tmp/gate <<'SCRIPT'
# (the shell's own read and test where it can: under emulation a fork
# costs the child the CPU it needs to get where this waits for it)
settled() {
    parent=
    for pid in $(pidof rootless); do
        { read -r _ _ _ up _ < /proc/$pid/stat; } 2>/dev/null || continue
        comm=
        { read -r comm < /proc/$up/comm; } 2>/dev/null
        [ "$comm" = rootless ] || parent=$pid
    done
    [ -n "$parent" ] || return 1
    child=
    { read -r child _ < /proc/$parent/task/$parent/children; } 2>/dev/null
    syscall=
    if [ -z "$child" ]; then
        { read -r syscall < /proc/$parent/syscall; } 2>/dev/null
        set -- $syscall
        [ "$1" = 1 ]
        return
    fi
    comm=
    { read -r comm < /proc/$child/comm; } 2>/dev/null
    [ "$comm" = rootless ] || return 0
    { read -r _ _ state _ < /proc/$child/stat; } 2>/dev/null || return 0
    [ "$state" = Z ] && return 0
    { read -r syscall < /proc/$child/syscall; } 2>/dev/null
    set -- $syscall
    [ "$1" = 0 ] || return 1
    pipe=$(readlink /proc/$child/fd/$(($2)))
    case "$pipe" in pipe:*) ;; *) return 1 ;; esac
    for fd in /proc/$parent/fd/*; do
        [ "$(readlink $fd)" = "$pipe" ] && return 0
    done
    return 1
}
read -r now _ < /proc/uptime
deadline=$((${now%.*} + 15))
while ! settled; do
    read -r now _ < /proc/uptime
    [ "${now%.*}" -lt $deadline ] || break
    read -t 0.01 _ <> /tmp/.pause
done
dd bs=4096 count=16 of=/dev/null 2>/dev/null
exec cat
SCRIPT

# grun 'CMD': run, with CMD's output through the gate
grun() {
    echo "\$ $1"
    {
        dd if=/dev/zero bs=4096 count=16 2>/dev/null
        eval "$1" 2>&1
        echo $? > /tmp/grun.status
    } | sh /tmp/gate
    status=$(cat /tmp/grun.status)
    [ "$status" -eq 0 ] || echo "[exit $status]"
    return 0
}

note "student has no capability, and the container of step 7 is refused to it"
run 'su student -c "id; grep CapEff /proc/self/status"'
run 'su student -c "container --rootfs /rootfs /bin/true"'

note "rootless: student outside, root inside, with every capability"
echo "# (here rootless's first line waits until its child is blocked on the pipe: see rootless.sh)"
grun 'su student -c "rootless --rootfs /rootfs grep -e ^Uid -e ^Gid -e ^CapEff /proc/self/status"'
grun 'su student -c "rootless --rootfs /rootfs id"'

note "While a container runs: its maps, and its ids and capabilities, seen from the VM"
echo "# (the parent's and the child's: the same uid, capabilities in its user namespace only)"
start box 'su student -c "rootless --rootfs /rootfs sleep 1000"'
child=$(sed -n 's/^rootless: PID of child created by clone() is \([0-9]*\)/\1/p' /tmp/box.out)
parent=$(awk '/^PPid:/ { print $2 }' /proc/${child:-0}/status 2>/dev/null)
# (the child execs sleep once its maps are written; the parent then waits)
await '{ line comm /proc/$child/comm; line syscall /proc/$parent/syscall; [ "$comm" = sleep ] && [ "${syscall%% *}" = 61 ]; } || ! kill -0 $box 2>/dev/null'
run 'cat /proc/$child/uid_map /proc/$child/gid_map /proc/$child/setgroups'
run 'grep -E "^(Uid|CapEff)" /proc/$parent/status /proc/$child/status'

note "NS_GET_USERNS (step 6): its ipc, mnt, pid and uts namespaces belong to its user"
echo "# namespace, whose parent is the VM's; cgroup, net and time stay the VM's"
run 'ownerns $child'
run 'idns $child user'
run 'parentns $child user'
run 'userns $child'
run 'cmpns $$ $child'
finish box 'kill -KILL ${child:-$box}'

note "What root inside can do, and cannot: its own hostname and mounts, but no"
echo "# device, and no write to a file whose owner has no uid inside (the VM's root: 65534)"
cat > /rootfs/try-root <<'SCRIPT'
hostname box && hostname
mount -t tmpfs tmpfs /tmp && echo "tmpfs mounted on /tmp"
mknod /tmp/null c 1 3
ls -ln /etc/passwd
echo student >> /etc/passwd
SCRIPT
run 'cat /rootfs/try-root'
grun 'su student -c "rootless --rootfs /rootfs sh /try-root"'
run 'hostname'

note "A map the kernel refuses: student claims to be uid 0 outside. The parent"
echo "# says so and fails; the child, which read end-of-file, stops"
grun 'su student -c "rootless --uid 0 --rootfs /rootfs id"'

note "Debian's switch, kernel.unprivileged_userns_clone: 1 lets any user create"
echo "# user namespaces; at 0, clone(CLONE_NEWUSER) needs CAP_SYS_ADMIN"
run 'cat /proc/sys/kernel/unprivileged_userns_clone'
run 'echo 0 > /proc/sys/kernel/unprivileged_userns_clone'
run 'su student -c "rootless --rootfs /rootfs /bin/true"'
run 'echo 1 > /proc/sys/kernel/unprivileged_userns_clone'

note "Bad input is refused before any clone"
run 'su student -c "rootless --uid student"'
run 'su student -c "rootless --rootfs /nonexistent"'
