# Step cgroup: the container of step 10 in a cgroup v2 of its own, with
# limits (pids.max, memory.max) and a cgroup namespace rooted there.
# The scenario's own shell stays in the root cgroup: moved into a limited
# cgroup, it could not fork its next command.
cd /

note "The VM's init mounted cgroup2 on /sys/fs/cgroup, as systemd does on a host. Every process is in"
echo "# the root cgroup, which has every controller and enables none for its children yet"
run 'cat /proc/self/cgroup'
run 'cat /sys/fs/cgroup/cgroup.controllers'
run 'cat /sys/fs/cgroup/cgroup.subtree_control'

note "Bad input: one line, and nothing created (no cgroup below the root)"
run 'limitcontainer --pids 0 --rootfs /rootfs /bin/true'
run 'limitcontainer --pids -1 --rootfs /rootfs /bin/true'
run 'limitcontainer --pids abc --rootfs /rootfs /bin/true'
run 'limitcontainer --memory 1x --rootfs /rootfs /bin/true'
run 'limitcontainer --hostname a/b --rootfs /rootfs /bin/true'
run 'shns mnt -- /bin/sh -c "umount /sys/fs/cgroup && limitcontainer --rootfs /rootfs /bin/true"'
run 'find /sys/fs/cgroup -mindepth 1 -type d'

note "A controller the parent cgroup does not have: run from /outer, a child of the root, which"
echo "# enables nothing for its children yet, limitcontainer's +pids +memory is refused (ENOENT)"
run 'mkdir /sys/fs/cgroup/outer'
run 'sh -c "echo \$\$ > /sys/fs/cgroup/outer/cgroup.procs && exec limitcontainer --rootfs /rootfs /bin/true"'

note "A limit the kernel refuses: pids.max takes at most PID_MAX_LIMIT (4194304). The controllers"
echo "# are enabled in the root cgroup, then the write is EINVAL, and the cgroup made for it removed"
run 'limitcontainer --pids 5000000 --hostname box --rootfs /rootfs /bin/true'
run 'cat /sys/fs/cgroup/cgroup.subtree_control'
run 'ls /sys/fs/cgroup/box'

note "No internal processes: a non-root cgroup that has processes of its own cannot give the memory"
echo "# controller to its children (EBUSY); from /outer, limitcontainer is such a process. It leaves"
echo "# nothing below /outer"
run 'cat /sys/fs/cgroup/outer/cgroup.controllers'
run 'sh -c "echo \$\$ > /sys/fs/cgroup/outer/cgroup.procs && exec limitcontainer --rootfs /rootfs /bin/true"'
run 'find /sys/fs/cgroup -mindepth 1 -type d'
run 'rmdir /sys/fs/cgroup/outer'

note "Inside: the container's cgroup namespace is rooted at its own cgroup. /proc/self/cgroup reads 0::/,"
echo "# and a cgroup2 mount shows the container's cgroup at its top, with its limits"
run 'limitcontainer --pids 10 --memory 32M --hostname box --rootfs /rootfs sh -c "cat /proc/self/cgroup; mount -t cgroup2 none /sys && cat /sys/pids.max /sys/memory.max /sys/cgroup.procs"'

note "Outside: the VM sees the container's init in /box, its cgroup's path from the VM's root, and"
echo "# in a cgroup namespace that is not the VM's"
# (the container says it is ready on its fd 4, a file of its own here: on
# its stdout the line could come before its parent's)
start box 'limitcontainer --pids 10 --memory 32M --hostname box --rootfs /rootfs sh -c "echo ready >&4; exec sleep 1000" 4> /tmp/box.ready'
await 'grep -qs ready /tmp/box.ready || ! kill -0 $box 2>/dev/null'
# (its init's PID, in the VM's numbering, ends limitcontainer's first line)
line first /tmp/box.out
init=${first##* }
run '[ "$(cat /sys/fs/cgroup/box/cgroup.procs)" = "$init" ] && echo "/sys/fs/cgroup/box/cgroup.procs lists it, alone"'
run 'cat /proc/$init/cgroup'
run '[ "$(readlink /proc/$init/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] && echo "a cgroup namespace of its own"'

note "Seen from the container's cgroup namespace, a cgroup above its root is /.. (cgroup_namespaces(7))"
run 'execns $init:cgroup cat /proc/self/cgroup'

note "Any root process can write a PID into cgroup.procs: a sleep of the VM joins the container's cgroup"
spawn intruder sleep 'sleep 1000'
run 'echo $intruder > /sys/fs/cgroup/box/cgroup.procs'
run 'cat /proc/$intruder/cgroup'

note "The container's init ends, and its PID namespace with it; the VM's sleep is still in the cgroup,"
echo "# and rmdir(2) of a populated cgroup is EBUSY: limitcontainer empties it with cgroup.kill first"
finish box 'kill -KILL $init'

note "The VM's sleep died of it (SIGKILL); the scenario, its parent, reaps it. (A program that left it"
echo "# alive would keep the scenario waiting: the scenario kills it first, silently, should it live)"
echo '$ wait $intruder'
kill -KILL $intruder 2> /dev/null
reap intruder

note "A fork bomb, bounded (20 sleeps), in a container of at most 10 processes: the 10th fork is refused"
echo "# (EAGAIN), the container's shell gives up, pids.events counts it, and the VM goes on. (The shell"
echo "# gives a background job /dev/null as its input: the container mounts a devtmpfs on its /dev)"
run 'limitcontainer --pids 10 --hostname box --rootfs /rootfs sh -c "mount -t devtmpfs dev /dev; i=0; while [ \$i -lt 20 ]; do sleep 1000 & i=\$((i + 1)); done; echo all started"'
run 'echo the VM still forks: $(echo yes)'

note "A memory hog (awk doubles a string up to 32 MiB) in a container of 32 MiB: the OOM killer kills it,"
echo "# with SIGKILL, before it is done; memory.events counts it"
run 'limitcontainer --memory 32M --hostname box --rootfs /rootfs awk "BEGIN { s = \"x\"; while (length(s) < 33554432) s = s s; print length(s) }"'

note "Afterwards no cgroup is left below the root; the controllers stay enabled there, as on a host"
run 'find /sys/fs/cgroup -mindepth 1 -type d'
run 'cat /sys/fs/cgroup/cgroup.subtree_control'
