# Step ioctls: what the nsfs ioctls and SIOCGSKNS say, and the kernel's rules.

note "NS_GET_USERNS: every namespace of the VM belongs to the initial user namespace;"
echo "# the initial user namespace's own owner is out of reach: EPERM"
run 'ownerns $$'

note "Namespaces created with a new user namespace belong to it"
spawn inner sleep 'unshare --user --uts --ipc sleep 1000'
run 'ownerns $inner uts ipc user'
run 'idns $inner user'

note "NS_GET_PARENT: uts has no hierarchy (EINVAL); the initial pid and user"
echo "# namespaces have no parent in our view (EPERM); a child user namespace's parent is ours"
run 'parentns $$ uts pid user'
run 'parentns $inner user'

note "A child pid namespace's parent is the caller's pid namespace"
start parent 'clonens pid'
child=$(sed -n 's/^Created process \([0-9]*\) .*/\1/p' /tmp/parent.out)
run 'parentns $child pid'
finish parent 'kill -KILL $child'

note "NS_GET_OWNER_UID: who created the user namespace (as a uid of ours)"
run 'userns $$'
spawn nobodys sleep 'su -s /bin/sh -c "exec unshare --user sleep 1000" nobody'
run 'userns $nobodys'

note "NS_GET_NSTYPE: the CLONE_NEW* value of each of the eight types"
run 'nstype $$'

note "SIOCGSKNS: a socket belongs to its creator's network namespace"
run 'socket'
run 'idns $$ net'
run 'shns net -- socket'

note "Bad input"
run 'ownerns'
run 'parentns x'
run 'nstype $$ bogus'
run 'userns'
run 'userns $$ 2'
run 'userns 99999'

# (killed last: a dead namespace's inode number is soon given to a new one)
kill -KILL $inner $nobodys
