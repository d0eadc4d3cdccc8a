# Step clone: a child cloned into new namespaces, compared with cmpns.

child_of() { sed -n 's/^Created process \([0-9]*\) .*/\1/p' "/tmp/$1.out"; }

note "clonens pid uts: the child is in new pid and uts namespaces, and only those"
start parent 'clonens pid uts'
child=$(child_of parent)
run 'cmpns $$ $child'

note "In its own PID namespace, the child is PID 1 (NSpid: as seen from here, then from inside)"
run 'grep NSpid /proc/$child/status'

note "As init of its PID namespace, it ignores SIGTERM from outside; SIGKILL ends it"
run 'kill -TERM $child'
# (the kernel drops the signal at once, in kill(); a child that does not
# ignore it has it pending until delivered: wait until none is pending)
await '! grep -qs "^ShdPnd:.*[1-9a-f]" /proc/$child/status'
run 'grep State /proc/$child/status'
finish parent 'kill -KILL $child'

note "All eight types: with time, clonens makes the child with clone3(2), which takes CLONE_NEWTIME"
start parent 'clonens cgroup ipc mnt net pid time user uts'
child=$(child_of parent)
run 'cmpns $$ $child'
finish parent 'kill -KILL $child'

note "Without privilege, clone() cannot create a pid namespace: EPERM"
try 'su -s /bin/sh -c "clonens pid" nobody' '^Created'

note "Bad input"
run 'clonens'
run 'clonens pid bogus'
run 'clonens all'

note "Unprivileged, all eight types: with the child's new user namespace, clone3 creates the time namespace in it"
echo "# (nobody may create a time namespace only in a user namespace of its own)"
start parent 'su -s /bin/sh -c "clonens cgroup ipc mnt net pid time user uts" nobody'
child=$(child_of parent)
run 'cmpns $$ $child'
run 'kill -KILL $child; wait $parent'
