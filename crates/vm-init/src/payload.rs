//! The run's payload: read from the payload disk, unpacked into a tmpfs that
//! becomes the root.
//!
//! The disk is read with O_DIRECT, past the page cache: when this VM was
//! restored from a snapshot, the kernel had already read the disk of the
//! run that made the snapshot (to look for partitions) and may have kept
//! those blocks; only the device itself has this run's.

use nix::mount::{MsFlags, mount};
use nix::sys::stat::{Mode, SFlag, makedev, mknod};
use nslab_protocol::{COMMON_ARCHIVE, PAYLOAD_DEVICE, PAYLOAD_OFFSET, PayloadHeader};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// Where the payload is unpacked before it becomes `/`.
const NEW_ROOT: &str = "/newroot";

/// O_DIRECT needs buffers, offsets and lengths aligned on the device's
/// logical block size; a page is a multiple of every one.
const ALIGN: usize = 4096;

/// `len` bytes (a multiple of [`ALIGN`]) at `offset`, read past the page
/// cache into an aligned buffer.
struct Direct {
    buffer: Vec<u8>,
    start: usize,
    len: usize,
}

impl std::ops::Deref for Direct {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buffer[self.start..self.start + self.len]
    }
}

fn read_direct(disk: &File, offset: u64, len: usize) -> io::Result<Direct> {
    let mut buffer = vec![0u8; len + ALIGN];
    let start = buffer.as_ptr().align_offset(ALIGN);
    let aligned = &mut buffer[start..start + len];
    let mut done = 0;
    while done < len {
        let chunk = (len - done).min(1 << 20);
        let n = nix::sys::uio::pread(
            disk,
            &mut aligned[done..done + chunk],
            (offset + done as u64) as i64,
        )?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the payload disk is shorter than its archive",
            ));
        }
        done += n;
    }
    Ok(Direct { buffer, start, len })
}

/// Wait for the payload: the disk's device (the virtio driver made it while
/// its module loaded; a moment more, at most) and then its header. A cold
/// boot has it at once; a VM saved as a snapshot waits here, and finds its
/// run's header as soon as it is restored.
pub fn wait() -> io::Result<PayloadHeader> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let disk = loop {
        match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(PAYLOAD_DEVICE)
        {
            Ok(disk) => break disk,
            Err(err) if Instant::now() >= deadline => {
                return Err(io::Error::new(
                    err.kind(),
                    format!("{PAYLOAD_DEVICE}: {err}"),
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    loop {
        let block = read_direct(&disk, 0, PAYLOAD_OFFSET as usize)?;
        if let Some(header) = PayloadHeader::parse(&block) {
            return Ok(header);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Mix the host's seed into the entropy pool, and reseed the generator from
/// the pool at once (RNDRESEEDCRNG): a write alone would only be used at the
/// next scheduled reseed (drivers/char/random.c, write_pool_user and
/// random_ioctl).
pub fn seed_entropy(seed: &[u8]) {
    /// `_IO('R', 0x07)`, from include/uapi/linux/random.h.
    const RNDRESEEDCRNG: libc::c_ulong = 0x5207;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    if let Ok(mut random) = std::fs::OpenOptions::new().write(true).open("/dev/urandom") {
        let _ = random.write_all(seed);
        // SAFETY: RNDRESEEDCRNG takes no argument.
        unsafe { libc::ioctl(random.as_raw_fd(), RNDRESEEDCRNG as _) };
    }
}

/// Make the tmpfs that becomes the root, with the files every run has (the
/// base initramfs's [`COMMON_ARCHIVE`], removed once unpacked): done before
/// the VM is saved, so that no restored run pays for them.
pub fn prepare_root() -> io::Result<()> {
    std::fs::create_dir_all(NEW_ROOT)?;
    mount(
        Some("tmpfs"),
        NEW_ROOT,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("mode=0755"),
    )?;
    let common = std::fs::read(COMMON_ARCHIVE)
        .map_err(|err| io::Error::new(err.kind(), format!("{COMMON_ARCHIVE}: {err}")))?;
    unpack(&common, Path::new(NEW_ROOT))?;
    std::fs::remove_file(COMMON_ARCHIVE)
}

/// Unpack the payload into the tmpfs of [`prepare_root`] and make it the
/// root, as switch_root does: move /proc, /sys and /dev into it, move it
/// onto `/`, and chroot into it. The initramfs stays underneath, out of
/// reach (it holds only this init and the virtio modules).
pub fn enter(header: &PayloadHeader) -> io::Result<()> {
    let disk = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(PAYLOAD_DEVICE)?;
    let len = (header.archive_len as usize).div_ceil(ALIGN) * ALIGN;
    let archive = read_direct(&disk, PAYLOAD_OFFSET, len)?;
    let archive = &archive[..header.archive_len as usize];
    unpack(archive, Path::new(NEW_ROOT))?;
    for dir in ["/proc", "/sys", "/dev"] {
        let target = format!("{NEW_ROOT}{dir}");
        std::fs::create_dir_all(&target)?;
        mount(
            Some(dir),
            target.as_str(),
            None::<&str>,
            MsFlags::MS_MOVE,
            None::<&str>,
        )?;
    }
    nix::unistd::chdir(NEW_ROOT)?;
    mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>)?;
    nix::unistd::chroot(".")?;
    nix::unistd::chdir("/")?;
    Ok(())
}

/// Make a file with `create`; where one is already (a common file, such
/// as busybox's `ip`, that the payload's replaces), remove it first.
fn replacing<T>(target: &Path, create: impl Fn() -> io::Result<T>) -> io::Result<T> {
    match create() {
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(target)?;
            create()
        }
        done => done,
    }
}

/// Write a newc archive's entries under `root`: over the common files, for
/// the payload.
fn unpack(archive: &[u8], root: &Path) -> io::Result<()> {
    let mut rest = io::Cursor::new(archive);
    loop {
        let mut entry = cpio::NewcReader::new(rest)?;
        if entry.entry().is_trailer() {
            return Ok(());
        }
        let name = entry.entry().name().trim_start_matches('/').to_owned();
        let mode = entry.entry().mode();
        let target = root.join(&name);
        let kind = SFlag::from_bits_truncate(mode & libc::S_IFMT);
        let permissions = std::fs::Permissions::from_mode(mode & 0o7777);
        let named = |err: io::Error| io::Error::new(err.kind(), format!("{name}: {err}"));
        if kind == SFlag::S_IFDIR {
            std::fs::create_dir_all(&target).map_err(named)?;
            std::fs::set_permissions(&target, permissions).map_err(named)?;
        } else if kind == SFlag::S_IFREG {
            let create = || {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(mode & 0o7777)
                    .open(&target)
            };
            let mut file = replacing(&target, create).map_err(named)?;
            // Straight from the archive, in one write: under emulation
            // each copy and each system call costs.
            let start = entry.offset()? as usize;
            let data = archive
                .get(start..start + entry.entry().file_size() as usize)
                .ok_or_else(|| named(io::Error::other("the archive ends inside it")))?;
            file.write_all(data).map_err(named)?;
        } else if kind == SFlag::S_IFLNK {
            let mut link = String::new();
            entry.read_to_string(&mut link).map_err(named)?;
            replacing(&target, || std::os::unix::fs::symlink(&link, &target)).map_err(named)?;
        } else if kind == SFlag::S_IFCHR {
            let dev = makedev(
                entry.entry().rdev_major().into(),
                entry.entry().rdev_minor().into(),
            );
            mknod(
                &target,
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(mode & 0o7777),
                dev,
            )
            .map_err(|e| named(e.into()))?;
        } else {
            return Err(named(io::Error::other(format!("unexpected mode {mode:o}"))));
        }
        rest = entry.skip()?;
    }
}
