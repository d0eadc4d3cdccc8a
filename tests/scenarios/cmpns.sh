# Step cmpns: compare namespaces through stat() of /proc/PID/ns/*.

note "This shell against itself: all eight namespaces are shared"
run 'cmpns $$ $$'

note "A process that busybox unshare put in new uts, ipc and net namespaces"
spawn other sleep 'unshare --uts --ipc --net sleep 1000'
run 'cmpns $$ $other'

note "The identities behind the comparison: same device (nsfs), other inodes"
run 'idns $$ uts ipc net user'
run 'idns $other uts ipc net user'
note "All types, in idns order; the initial namespaces have fixed inode numbers"
run 'idns $$'
kill -KILL $other; wait $other 2> /dev/null

note "Only who may read a process's memory map may stat its /proc/PID/ns: EACCES"
run 'su -s /bin/sh -c "cmpns $$ $$" nobody'

note "Bad input: one line, and exit status 2 for cmpns, 1 for idns"
run 'cmpns $$'
run 'cmpns $$ 12x'
run 'cmpns "" $$'
run 'cmpns $$ 99999'
run 'idns'
run 'idns $$ uts bogus'
run 'idns 99999 uts'
