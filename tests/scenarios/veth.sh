# Step veth: the container in its own network namespace, linked to the
# VM by a veth pair (veth0 here, 10.0.0.13; veth1 inside, 10.0.0.15).
cd /

# netcontainer's ip(8) is this script: `ip link add ... netns PID` waits until
# the child PID is blocked reading a pipe whose write end its parent (the
# caller) holds, or has ended, or the caller has (15 s at most); a PID that
# is not the caller's child is not waited for. The child of a correct netcontainer gets
# there at once; one that does not wait for its parent is then caught every
# time, not only when it happens to be fast.
mkdir -p /tmp/gate
cat > /tmp/gate/ip <<'SCRIPT'
#!/bin/sh
waiting() {
    # (the shell's own read and test only: under emulation a fork costs the
    # child the CPU it needs to get where this waits for it)
    { read -r _ _ state parent _ < /proc/$1/stat; } 2>/dev/null || return 1
    [ "$state" = Z ] && return 1
    [ "$parent" = "$PPID" ] || return 1
    syscall=
    { read -r syscall < /proc/$1/syscall; } 2>/dev/null
    set -- $1 $syscall
    [ "$2" = 0 ] || return 0
    pipe=$(readlink /proc/$1/fd/$(($3)))
    case "$pipe" in pipe:*) ;; *) return 0 ;; esac
    for fd in /proc/$PPID/fd/*; do
        [ "$(readlink $fd)" = "$pipe" ] && return 1
    done
    return 0
}
case " $* " in
*" netns "*)
    for pid; do :; done
    tries=0
    while waiting $pid && kill -0 $PPID 2>/dev/null && [ $tries -lt 1500 ]; do
        read -t 0.01 _ <> /tmp/.pause
        tries=$((tries + 1))
    done ;;
esac
exec /bin/ip "$@"
SCRIPT
chmod +x /tmp/gate/ip
export PATH=/tmp/gate:$PATH

note "Inside: lo and veth1 are up, veth1 has its address; nothing else"
echo "# (here ip link add waits until the child is blocked on the pipe: see veth.sh)"
# (operstate and carrier settle asynchronously, so the transcript shows
# what the pipe guarantees: the interfaces that are up, and the addresses)
cat > /rootfs/show-net <<'SCRIPT'
ip -o link show up | cut -d: -f2
ip -o -4 addr | awk '{ print $2, $4 }'
SCRIPT
run 'cat /rootfs/show-net'
run 'netcontainer --rootfs /rootfs sh /show-net'

note "Inside, ping the parent's end"
run 'netcontainer --rootfs /rootfs ping -c 3 10.0.0.13'

note "While a container runs, the VM has veth0, addressed and up"
start box 'netcontainer --rootfs /rootfs sleep 1000'
child=$(sed -n 's/^netcontainer: PID of child created by clone() is \([0-9]*\)/\1/p' /tmp/box.out)
# (the child execs sleep once its parent is done with the network)
await '{ line comm /proc/$child/comm; [ "$comm" = sleep ]; } || ! kill -0 $box 2>/dev/null'
run '/bin/ip -brief link show up type veth | cut -d" " -f1'
run '/bin/ip -brief -4 addr show veth0 | awk "{print \$1, \$3}"'
run 'ping -c 1 -W 2 10.0.0.15 | grep -c "1 packets received"'

note "Its network namespace differs from the VM's; the others as in the container step"
run 'cmpns $$ $child'
finish box 'kill -KILL ${child:-$box}'

note "Afterwards, no veth is left in the VM"
run '/bin/ip -brief link show type veth | wc -l'
run 'ls /sys/class/net'

note "A failure after clone: a veth0 exists already. The parent says so and"
echo "# fails, the child stops, and the other veth0 is left as it was"
run '/bin/ip link add veth0 type veth peer name other'
run 'netcontainer --rootfs /rootfs /bin/true'
run '/bin/ip -brief link show type veth | wc -l'
run '/bin/ip link del veth0'

note "Bad input is refused before any clone or veth"
run 'netcontainer --rootfs /nonexistent'
run 'netcontainer --rootfs /rootfs /bin/nonexistent'
run '/bin/ip -brief link show type veth | wc -l'
