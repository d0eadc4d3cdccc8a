# Step unshare: shns gives itself new namespaces, then forks a program.

note "A new pid namespace: the child forked after unshare() is its PID 1"
run 'shns pid -- /bin/sh -c "echo \$\$"'

note "Only those: with uts and mnt, the program shns forks has new uts and mnt namespaces, and ours for the other six"
start sh1 'shns uts mnt -- /bin/sleep 1000'
child_exec prog $sh1 sleep
run 'cmpns $$ $prog'
finish sh1 'kill -KILL $prog'

note "With pid and time, shns itself keeps ours (they are for its children); the program it forks has new ones"
start sh1 'shns pid time -- /bin/sleep 1000'
child_exec prog $sh1 sleep
run 'cmpns $$ $sh1'
run 'cmpns $$ $prog'
finish sh1 'kill -KILL $prog'

note "A new time namespace is for the children too: shns itself stays in the VM's"
run 'shns time -- /bin/sh -c "readlink /proc/\$PPID/ns/time; readlink /proc/self/ns/time"'

note "A new uts namespace: a hostname set inside does not leak out"
run 'shns uts -- /bin/sh -c "hostname inside; hostname"'
run 'hostname'

note "A new mount namespace: a mount made inside stays inside"
run 'shns mnt -- /bin/sh -c "mount -t tmpfs scratch /root; grep -c scratch /proc/mounts"'
run 'grep -c scratch /proc/mounts'

note "No arguments: all eight types and /bin/sh, reading commands from stdin;"
echo "# a new user namespace maps no uid yet, so root appears as uid 65534 inside"
run 'echo "echo pid \$\$; id -u" | shns'

note "The program's raw wait status: exit 5 is 1280 (0x500)"
run 'shns ipc -- /bin/sh -c "exit 5"'
run 'shns ipc -- /nonexistent'

note "Without privilege, unshare() fails; with a new user namespace too, it succeeds"
run 'su -s /bin/sh -c "shns ipc uts mnt -- /bin/true" nobody'
run 'su -s /bin/sh -c "shns ipc uts mnt user -- /bin/true" nobody'

note "Bad input"
run 'shns -h'
run 'shns bogus'

note "In a chroot into a plain directory, / is no mount point: nothing can be made private; shns says so and goes on"
mkdir -p /tmp/jail/bin && cp /bin/busybox /bin/shns /tmp/jail/bin/ && ln -s busybox /tmp/jail/bin/sh
run 'chroot /tmp/jail /bin/shns mnt -- /bin/sh -c "echo inside"'
