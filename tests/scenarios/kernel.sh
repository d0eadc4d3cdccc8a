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

note "A new time namespace starts with zero offsets (struct timens_offsets)"
run 'shns time -- cat /proc/self/timens_offsets'

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
