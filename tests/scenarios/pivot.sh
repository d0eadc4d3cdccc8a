# Step pivot: the container of step 7 rooted with pivot_root(2) instead of
# chroot(2), against the classic way out of a chroot (escape, provided).
cd /

note "Share the VM's mounts, as systemd does on most hosts (mount_namespaces(7))"
run 'mount --make-rshared /'

note 'escape (provided) does chroot("/tmp") and leaves its working directory at /, then'
echo '# chdir("..") until .. goes nowhere, and chroot("."). In the chroot of step 7'"'"'s container'
echo "# it gets out: /etc/hostname is the VM's, and / holds the VM's files"
run 'cp /bin/escape /rootfs/bin/escape'
run 'container --rootfs /rootfs escape cat /etc/hostname'
run 'container --rootfs /rootfs escape ls /'

note "The same escape in pivotcontainer: .. from its / goes nowhere, and nothing of the VM is there"
run 'pivotcontainer --rootfs /rootfs escape cat /etc/hostname'
run 'pivotcontainer --rootfs /rootfs escape ls -a /'

note "Its mount table (root, mount point, type): the bind mount of /rootfs as /, and its /proc;"
echo "# the old root is gone"
run 'pivotcontainer --rootfs /rootfs cut -d" " -f4,5,8 /proc/self/mountinfo'

note "A mount below the root filesystem comes with it: the bind mount is recursive"
run 'mount -t tmpfs tmpfs /rootfs/tmp'
run 'pivotcontainer --rootfs /rootfs cut -d" " -f4,5,8 /proc/self/mountinfo'
run 'umount /rootfs/tmp'

note 'pivot_root moves only the working directories at the top of the old root: chdir("/")'
echo "# brings ours inside, where from /etc, .. is the container's /"
run '(cd /etc && pivotcontainer --rootfs /rootfs ls ..)'

note "Bad input: refused before any clone, or by pivot_root"
run 'pivotcontainer --rootfs /nonexistent'
run 'pivotcontainer --rootfs /etc/hostname /bin/true'
run 'pivotcontainer --rootfs /rootfs /bin/nonexistent'
run 'pivotcontainer --rootfs / /bin/true'
run 'pivotcontainer --bogus'

note "Afterwards the VM's mount table is as it was, and no .oldroot is left"
run 'grep -c " /rootfs" /proc/mounts'
run 'ls -d /.oldroot /rootfs/.oldroot'
