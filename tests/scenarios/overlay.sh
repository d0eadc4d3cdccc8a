# Step overlay: the container of step 10 on a layered root, an overlay of
# the image /rootfs (read-only) and a layer of the container's own.
cd /

note "Share the VM's mounts, as systemd does on most hosts (mount_namespaces(7))"
run 'mount --make-rshared /'

note "overlay is a module here (CONFIG_OVERLAY_FS=m), loaded before the scenario:"
echo "# the kernel knows the filesystem type"
run 'grep -w overlay /proc/filesystems'

note "Inside: one file changed, one created, one deleted, and the root is an overlay"
echo "# with the image as its lower layer and the layer's upper and work directories"
run 'overlaycontainer --image /rootfs --hostname c1 --keep-layer sh -c "echo guest:x:1000:1000::/root:/bin/sh >> /etc/passwd; echo hello > /root/notes; rm /etc/group; ls /etc; cat /proc/mounts"'

note "Outside, the image is as it was"
run 'tail -n 1 /rootfs/etc/passwd'
run 'ls /rootfs/etc /rootfs/root'

note "The layer holds exactly the change: the changed file (copied up whole), the new one,"
echo "# their directories, and the deleted file as a whiteout, a character device 0,0"
run 'find /c1.layer/upper | sort'
run 'tail -n 2 /c1.layer/upper/etc/passwd'
run 'stat -c "%n: %F %t,%T" /c1.layer/upper/etc/group'
note "Outside, the layer's merged directory is empty: the overlay was only in the container's"
echo "# mount namespace"
run 'ls -A /c1.layer/merged'

note "A kept layer is the container's state: the same layer again starts where it was left"
run 'overlaycontainer --image /rootfs --hostname c1 cat /root/notes'
run 'ls -d /c1.layer'

note "Copy-up happens on the first write, not on a read: reading leaves the layer empty"
run 'overlaycontainer --image /rootfs --hostname c2 --keep-layer cat /etc/group'
run 'find /c2.layer/upper | sort'
run 'rm -r /c2.layer/upper /c2.layer/work; rmdir /c2.layer/merged /c2.layer'

note "Two containers of one image at the same time: c3 writes /etc/motd and waits, c4 does not"
echo "# see it and writes its own, c3 still reads its own (its lines show when it ends; it says it has"
echo "# written on its fd 4, a file here that the scenario waits on)"
mkfifo /tmp/go
exec 3<> /tmp/go
start c3 'overlaycontainer --image /rootfs --hostname c3 sh -c "echo c3 > /etc/motd; echo written >&4; read x; cat /etc/motd" < /tmp/go 4> /tmp/c3.written'
await 'grep -q written /tmp/c3.written || ! kill -0 $c3 2>/dev/null'
run 'overlaycontainer --image /rootfs --hostname c4 sh -c "cat /etc/motd; echo c4 > /etc/motd; cat /etc/motd"'
finish c3 'echo >&3'
exec 3>&-
run 'ls /rootfs/etc'

note "Bad input: one line, and nothing made is left"
run 'overlaycontainer --image /nonexistent true'
run 'overlaycontainer --image /etc/hostname true'
run 'overlaycontainer --image /rootfs /bin/nonexistent'
run 'overlaycontainer --image /rootfs --layer /nonexistent/c5.layer true'
run 'mkdir -p /c6.layer/upper /c6.layer/work /c6.layer/merged'
run 'mount -t tmpfs tmpfs /c6.layer/upper'
run 'overlaycontainer --image /rootfs --hostname c6 true'
run 'umount /c6.layer/upper'
run 'rm -r /c6.layer'
run 'overlaycontainer --image /rootfs --bogus'

note "Afterwards nothing is mounted on a layer, and no layer is left"
run 'grep -c overlay /proc/mounts'
run 'ls -d /*.layer'
