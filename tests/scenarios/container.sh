# Step container: a command as PID 1 of new pid, mnt, uts and ipc
# namespaces, chrooted in a busybox root filesystem with its own /proc.
cd /

note "ps in the container: the command is PID 1, and nothing of the VM is visible"
run 'container --rootfs /rootfs ps aux'

note "Its namespaces: pid, mnt, uts and ipc are new, the others are the VM's"
run 'container --rootfs /rootfs ls -l /proc/self/ns'
run 'idns $$ cgroup ipc mnt net pid time user uts'

note "Only those: the container's process against this shell, type by type"
start box 'container --rootfs /rootfs sleep 1000'
child=$(sed -n 's/^container: PID of child created by clone() is \([0-9]*\)/\1/p' /tmp/box.out)
await '{ line comm /proc/$child/comm; [ "$comm" = sleep ]; } || ! kill -0 $box 2>/dev/null'
run 'cmpns $$ $child'
finish box 'kill -KILL ${child:-$box}'

note "lsns (util-linux) inside lists the container's namespaces"
run 'container --rootfs /rootfs lsns --output NS,TYPE,NPROCS,PID,COMMAND'

note "The root filesystem is the directory given: here one that holds busybox alone, as sh"
run 'mkdir -p /tmp/tiny/bin && cp /bin/busybox /tmp/tiny/bin/sh'
run 'container --rootfs /tmp/tiny /bin/sh -c "echo /bin/*"'

note "Its own hostname; the VM keeps its own"
run 'container --rootfs /rootfs --hostname box /bin/hostname'
run 'hostname'

note "The VM's /proc and mount table are unchanged afterwards"
run 'grep -c "^proc /proc proc" /proc/mounts'
run 'grep -c rootfs/proc /proc/mounts'

note 'chroot leaves the working directory where it was; chdir("/") brings it inside,'
echo "# where .. leads nowhere further: here from /tmp, .. is the root filesystem's /"
run '(cd /tmp && container --rootfs /rootfs ls ..)'

note "A command that fails inside: the parent reports it and fails too"
run 'container --rootfs /rootfs /bin/sh -c "exit 3"'

note "Bad input is refused before any clone"
run 'container --rootfs /nonexistent'
run 'container --rootfs /rootfs /bin/nonexistent'
run 'container --rootfs /rootfs --hostname "" /bin/true'
run 'container --bogus'
