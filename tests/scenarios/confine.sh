# Step confine: the container of step 10, confined before it execs its
# command: Docker's 14 capabilities in every set, no_new_privs, a seccomp
# filter. showcaps and sysprobe are provided: busybox has no capsh, and
# nothing that makes the probed calls alone.
cd /
run 'cp /bin/showcaps /bin/sysprobe /bin/confinedcontainer /rootfs/bin/'

note "Root in pivotcontainer holds every capability, and nothing confines it"
run 'pivotcontainer --rootfs /rootfs showcaps'

note "confinedcontainer keeps Docker's 14 in all five sets; --show prints them before execve,"
echo "# showcaps after it: what execve computed from them"
run 'confinedcontainer --show --rootfs /rootfs showcaps'

note "--keep names what to keep: here neither setpcap nor anything else of Docker's list"
run 'confinedcontainer --show --keep net_bind_service,kill --rootfs /rootfs showcaps'

note "Side by side, pivotcontainer then confinedcontainer: the hostname (CAP_SYS_ADMIN),"
run 'pivotcontainer --rootfs /rootfs sh -c "hostname other && hostname"'
run 'confinedcontainer --rootfs /rootfs sh -c "hostname other && hostname"'
note "a mount (CAP_SYS_ADMIN, and the filter),"
run 'pivotcontainer --rootfs /rootfs mount -t tmpfs tmpfs /tmp'
run 'confinedcontainer --rootfs /rootfs mount -t tmpfs tmpfs /tmp'
note "loading a module (CAP_SYS_MODULE) and reboot (CAP_SYS_BOOT, with a wrong magic number:"
echo "# EINVAL says the capability check passed), and the filter for each"
run 'pivotcontainer --rootfs /rootfs sysprobe init_module finit_module reboot'
run 'confinedcontainer --rootfs /rootfs sysprobe init_module finit_module reboot'
note "a user namespace (and a UTS one in it, whose hostname is its own): unshare(CLONE_NEWUSER|CLONE_NEWUTS)"
run 'pivotcontainer --rootfs /rootfs unshare -r -u sh -c "hostname other && hostname"'
run 'confinedcontainer --rootfs /rootfs unshare -r -u sh -c "hostname other && hostname"'
run 'confinedcontainer --rootfs /rootfs unshare -U true'
note "the same by clone(2), whose flags are its first argument: the filter reads them there too"
run 'pivotcontainer --rootfs /rootfs sysprobe clone'
run 'confinedcontainer --rootfs /rootfs sysprobe clone'

note "Without the filter, the way round the drop: a new user namespace gives every capability back in it"
run 'confinedcontainer --no-seccomp --rootfs /rootfs unshare -r -u sh -c "hostname other && hostname && showcaps"'

note "clone3's flags are in memory, where a filter cannot look: it answers clone3 ENOSYS, whatever"
echo "# the flags, and glibc's posix_spawn (std::process::Command) falls back to clone"
run 'pivotcontainer --rootfs /rootfs sysprobe clone3 spawn'
run 'confinedcontainer --rootfs /rootfs sysprobe clone3 spawn'

note "The filter checks the architecture first: the same unshare made as i386 makes it (int 0x80,"
echo "# call 310, where x86-64's unshare is 272) is not refused by number: the process is killed (SIGSYS)"
run 'pivotcontainer --rootfs /rootfs sysprobe i386_unshare'
run 'confinedcontainer --rootfs /rootfs sysprobe i386_unshare'

note "Bad input: refused before any clone"
run 'confinedcontainer --keep bogus --rootfs /rootfs true'
run 'confinedcontainer --rootfs /rootfs confinedcontainer --keep sys_module --rootfs / true'
run 'confinedcontainer --rootfs /rootfs confinedcontainer --keep chown --rootfs /nonexistent'

note "Afterwards the VM's hostname and mounts are as they were"
run 'hostname'
run 'grep -c " /rootfs" /proc/mounts'
