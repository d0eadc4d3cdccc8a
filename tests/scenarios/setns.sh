# Step setns: execns enters the namespaces of a clonens child.

note "A child of clonens in new ipc, mnt, pid and uts namespaces"
start parent 'clonens ipc mnt pid uts'
child=$(sed -n 's/^Created process \([0-9]*\) .*/\1/p' /tmp/parent.out)

note "Enter its uts namespace only, and name it; ours keeps its name"
run 'execns $child:uts /bin/hostname container'
run 'hostname'

note "Enter every namespace of it that differs from ours (mnt last), then fork"
run 'execns $child /bin/sh -c "hostname; echo \$\$"'

note "The program's raw wait status: exit 3 is 768 (0x300), a failed exec 256 (0x100)"
run 'execns $child:uts /bin/sh -c "exit 3"'
run 'execns $child:uts /nonexistent'

note "The same namespace as ours is skipped: nothing to enter"
run 'execns $$:uts:net /bin/true'

note "Bad input: names are checked first, then the PID"
run 'execns'
run 'execns $child:uts:bogus'
run 'execns x:uts'
run 'execns 99999'
run 'kill -KILL $child; wait $parent'
