# Demonstration for the book's part 3, "Inside the kernel": the kernel's
# structures as a process sees them, with every step's solution as a tool.

note "The initial namespaces have fixed inode numbers (PROC_*_INIT_INO);"
echo "# those of mnt and net come from the IDA, like every new namespace's"
run 'ls -l /proc/self/ns | awk "{print \$9, \$10, \$11}"'

note "struct pid keeps one struct upid per level: NSpid lists the PID of the"
echo "# innermost process in each pid namespace, from the proc mount's down"
run 'shns pid -- shns pid -- sh -c "grep -E \"^(NSpid|NStgid)\" /proc/self/status"'

note "Ownership and parenthood (ns_common, user_ns, parent): a child in new"
echo "# user, pid and uts namespaces; its uts belongs to its new user namespace"
start parent 'clonens user pid uts'
child=$(sed -n 's/^Created process \([0-9]*\) .*/\1/p' /tmp/parent.out)
run 'ownerns $child uts'
run 'ownerns $child user'
run 'parentns $child pid'
run 'parentns $child user'
run 'kill -KILL $child; wait $parent'

note "Depth of user namespaces (create_user_ns()): the creator's uid and gid"
echo "# must be mapped in the parent, so without maps the second level is"
echo "# refused with EPERM"
run 'shns user -- shns user -- true'
note "With maps written at each level (busybox's unshare -r maps the caller"
echo "# to root), 33 levels below the initial one; the 34th, whose parent's"
echo "# level is above 32, is refused with ENOSPC"
cat > /tmp/nest <<'SCRIPT'
unshare -r sh /tmp/nest $(($1 + 1)) || echo "level $1: no level below"
SCRIPT
run 'cat /tmp/nest'
run 'sh /tmp/nest 0'

note "A new time namespace starts with zero offsets (struct timens_offsets)"
run 'shns time -- cat /proc/self/timens_offsets'

note "threads-max is the memory the kernel manages at boot over 128 KiB"
echo "# (set_max_threads()): between 1000 and 2000 in the 256 MiB VM, the"
echo "# exact figure moving with the kernel and initramfs; the default of each"
echo "# max_*_namespaces is half of it (fork_init())"
run 't=$(cat /proc/sys/kernel/threads-max); [ $t -ge 1000 ] && [ $t -lt 2000 ] && echo "1000 <= threads-max < 2000"'
run 'n=$(cat /proc/sys/user/max_user_namespaces); [ $n -eq $((t / 2)) ] && echo "max_user_namespaces = threads-max / 2"'

note "ucounts: /proc/sys/user/max_*_namespaces caps the namespaces a user"
echo "# may own; at 0, the next one is refused with ENOSPC"
run 'old=$(cat /proc/sys/user/max_uts_namespaces); echo 0 > /proc/sys/user/max_uts_namespaces'
run 'shns uts -- true'
run 'echo $old > /proc/sys/user/max_uts_namespaces'

note "procfs shows each reader the pid namespace of its mount: /proc/1 is"
echo "# the VM's init here; inside a new pid namespace with its own /proc, the"
echo "# shell alone (its glob, expanded before any fork, finds /proc/1 only)"
run 'cat /proc/1/comm'
run 'shns pid mnt -- sh -c "mount -t proc proc /proc; cat /proc/1/comm; echo /proc/[0-9]*"'
