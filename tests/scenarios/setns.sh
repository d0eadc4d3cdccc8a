# Step setns: execns enters the namespaces of a clonens child.

note "A child of clonens in new ipc, mnt, pid and uts namespaces"
start parent 'clonens ipc mnt pid uts'
child=$(sed -n 's/^Created process \([0-9]*\) .*/\1/p' /tmp/parent.out)

note "Enter its uts namespace only, and name it; ours keeps its name"
run 'execns $child:uts /bin/hostname container'
run 'hostname'

note "Enter every namespace of it that differs from ours (mnt last), then fork"
run 'execns $child /bin/sh -c "hostname; echo \$\$"'

note "Only those: the program execns runs shares all the child's namespaces,"
echo "# and is in ours for the four the child does not have of its own"
start ex 'execns $child /bin/sleep 1000'
child_exec prog $ex sleep
run 'cmpns $child $prog'
run 'cmpns $$ $prog'
finish ex 'kill -KILL $prog'

note "Entering the mount namespace has its effect: a mount made through execns is the child's, not ours"
run 'execns $child:mnt /bin/mount -t tmpfs marker /root'
run 'grep -c marker /proc/mounts'
run 'execns $child:mnt /bin/grep -c marker /proc/mounts'

note "The program's raw wait status: exit 3 is 768 (0x300), a failed exec 256 (0x100)"
run 'execns $child:uts /bin/sh -c "exit 3"'
run 'execns $child:uts /nonexistent'

note "setns() checks the type: here /proc/PID/ns/uts is the child's ipc namespace,"
echo "# bound over it in a mount namespace of our own; setns(CLONE_NEWUTS) refuses it"
cat > /tmp/swap <<'SCRIPT'
mkdir -p /tmp/fake/ns && touch /tmp/fake/ns/uts
mount --bind /proc/$1/ns/ipc /tmp/fake/ns/uts
mount --rbind /tmp/fake /proc/$1
exec execns $1:uts /bin/readlink /proc/self/ns/ipc
SCRIPT
run 'cat /tmp/swap'
run 'unshare -m sh /tmp/swap $child'

note "The same namespace as ours is skipped: nothing to enter"
run 'execns $$:uts:net /bin/true'

note "Bad input: names are checked first, then the PID"
run 'execns'
run 'execns $child:uts:bogus'
run 'execns x:uts'
run 'execns 99999'
finish parent 'kill -KILL $child'
