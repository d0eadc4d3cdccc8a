//! The VM's files, as newc cpio archives: the base initramfs the kernel
//! unpacks before it runs /init (the init, the virtio modules, and inside it
//! the archive of the files every run has: busybox and its applets, /etc, a
//! container's root filesystem at /rootfs), and each run's payload, which
//! the init unpacks from the payload disk into the same tmpfs, which becomes
//! its root (the step's programs and the earlier steps', its host tools, the
//! scenario, the kernel modules the step needs).//!
//! The archives are reproducible: entries in a fixed order, inode numbers
//! counted from 1, every mtime 0.

use super::host::Tools;
use anyhow::{Context, Result};
use cpio::newc::{Builder, ModeFileType, trailer};
use nslab_protocol::{PAYLOAD_DISK_BYTES, PAYLOAD_OFFSET, PayloadHeader, RunArgs};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The applets of a busybox binary.
pub fn busybox_applets(busybox: &Path) -> Result<Vec<String>> {
    let out = Command::new(busybox)
        .arg("--list")
        .output()
        .with_context(|| busybox.display().to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|applet| !applet.is_empty() && applet != "busybox")
        .collect())
}

/// What goes into the archive, by path inside the VM.
#[derive(Default)]
pub struct Tree {
    entries: BTreeMap<String, Entry>,
}

enum Entry {
    Dir,
    File { data: Vec<u8>, mode: u32 },
    Symlink(String),
    CharDev { major: u32, minor: u32 },
}

impl Tree {
    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.parents(path);
        self.entries.insert(path.into(), Entry::Dir);
        self
    }

    pub fn file(&mut self, path: &str, data: Vec<u8>, mode: u32) -> &mut Self {
        self.parents(path);
        self.entries.insert(path.into(), Entry::File { data, mode });
        self
    }

    pub fn copy(&mut self, path: &str, from: &Path, mode: u32) -> Result<&mut Self> {
        let data = std::fs::read(from).with_context(|| from.display().to_string())?;
        Ok(self.file(path, data, mode))
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.parents(path);
        self.entries
            .insert(path.into(), Entry::Symlink(target.into()));
        self
    }

    pub fn char_dev(&mut self, path: &str, major: u32, minor: u32) -> &mut Self {
        self.parents(path);
        self.entries
            .insert(path.into(), Entry::CharDev { major, minor });
        self
    }

    /// busybox at `dir/busybox`, with a symbolic link per applet.
    pub fn busybox(&mut self, dir: &str, busybox: &Path, applets: &[String]) -> Result<()> {
        self.copy(&format!("{dir}/busybox"), busybox, 0o755)?;
        for applet in applets {
            self.symlink(&format!("{dir}/{applet}"), "busybox");
        }
        Ok(())
    }

    fn parents(&mut self, path: &str) {
        for dir in Path::new(path).ancestors().skip(1) {
            let dir = dir.to_string_lossy();
            if dir.is_empty() || dir == "/" {
                break;
            }
            self.entries.entry(dir.into_owned()).or_insert(Entry::Dir);
        }
    }

    /// Write the tree into a directory of the host (device nodes are
    /// skipped: they need no place in a container's root filesystem).
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        for (path, entry) in &self.entries {
            let target = dir.join(path.trim_start_matches('/'));
            let done = match entry {
                Entry::Dir => std::fs::create_dir_all(&target),
                Entry::File { data, mode } => std::fs::write(&target, data).and_then(|()| {
                    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(*mode))
                }),
                Entry::Symlink(link) => {
                    let _ = std::fs::remove_file(&target);
                    std::os::unix::fs::symlink(link, &target)
                }
                Entry::CharDev { .. } => Ok(()),
            };
            done.with_context(|| target.display().to_string())?;
        }
        Ok(())
    }

    /// Write the archive. BTreeMap order puts every directory before what
    /// it contains, as the kernel needs.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        for (ino, (path, entry)) in self.entries.iter().enumerate() {
            let name = path.trim_start_matches('/');
            let header = Builder::new(name)
                .ino(ino as u32 + 1)
                .uid(0)
                .gid(0)
                .mtime(0);
            let (header, data): (Builder, &[u8]) = match entry {
                Entry::Dir => (
                    header
                        .mode(0o755)
                        .nlink(2)
                        .set_mode_file_type(ModeFileType::Directory),
                    &[],
                ),
                Entry::File { data, mode } => (
                    header
                        .mode(*mode)
                        .nlink(1)
                        .set_mode_file_type(ModeFileType::Regular),
                    data,
                ),
                Entry::Symlink(target) => (
                    header
                        .mode(0o777)
                        .nlink(1)
                        .set_mode_file_type(ModeFileType::Symlink),
                    target.as_bytes(),
                ),
                Entry::CharDev { major, minor } => (
                    header
                        .mode(0o600)
                        .nlink(1)
                        .rdev_major(*major)
                        .rdev_minor(*minor)
                        .set_mode_file_type(ModeFileType::Char),
                    &[],
                ),
            };
            let mut writer = header.write(&mut *out, data.len() as u32);
            writer.write_all(data)?;
            writer.finish()?;
        }
        trailer(out)?;
        Ok(())
    }
}

/// A container's root filesystem at `root`, in the manner of LXC's busybox
/// template: busybox and its applets, the few files its tools read, and
/// `lsns` from util-linux with its libraries.
pub fn container_rootfs(
    tree: &mut Tree,
    tools: &Tools,
    root: &str,
    applets: &[String],
) -> Result<()> {
    tree.busybox(&format!("{root}/bin"), &tools.busybox, applets)?;
    for dir in ["proc", "sys", "dev", "tmp", "root", "etc"] {
        tree.dir(&format!("{root}/{dir}"));
    }
    tree.file(
        &format!("{root}/etc/passwd"),
        b"root:x:0:0:root:/root:/bin/sh\n".to_vec(),
        0o644,
    )
    .file(&format!("{root}/etc/group"), b"root:x:0:\n".to_vec(), 0o644);
    host_program(tree, tools, Path::new(LSNS), root, "/bin")
}

/// util-linux's lsns, which the container steps carry into their rootfs.
pub const LSNS: &str = "/usr/bin/lsns";

/// Copy a dynamically linked host program into `tree` at `root/dir/name`,
/// with the shared libraries `ldd` names, at their Debian paths under `root`
/// ("" for the VM's own root, "/rootfs" for the container's).
pub fn host_program(
    tree: &mut Tree,
    tools: &Tools,
    program: &Path,
    root: &str,
    dir: &str,
) -> Result<()> {
    let name = program
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("prog");
    tree.copy(&format!("{root}{dir}/{name}"), program, 0o755)?;
    let out = tools
        .command(Path::new("ldd"))
        .arg(program)
        .output()
        .context("running ldd")?;
    anyhow::ensure!(
        out.status.success(),
        "ldd {}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = line
            .split_whitespace()
            .find(|word| word.starts_with('/'))
            .map(Path::new);
        if let Some(lib) = path {
            let real = std::fs::canonicalize(lib).with_context(|| lib.display().to_string())?;
            let inside = tools.guest_path(lib);
            tree.copy(&format!("{root}{}", inside.display()), &real, 0o755)?;
        }
    }
    Ok(())
}

/// Write a payload disk at `path`: its header (the run's arguments, a seed
/// for the guest's entropy pool), the archive, and zeros up to
/// [`PAYLOAD_DISK_BYTES`] (a sparse file: the zeros take no room).
pub fn write_disk(path: &Path, args: RunArgs, archive: &[u8]) -> Result<()> {
    use std::io::Read;
    let room = PAYLOAD_DISK_BYTES - PAYLOAD_OFFSET;
    anyhow::ensure!(
        (archive.len() as u64) <= room,
        "the VM's files take {} MB, more than the payload disk's {} MB",
        archive.len() >> 20,
        room >> 20
    );
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut seed))
        .context("reading /dev/urandom")?;
    let header = PayloadHeader {
        args,
        seed,
        archive_len: archive.len() as u64,
    };
    let written = (|| {
        let mut disk = std::fs::File::create(path)?;
        disk.write_all(&header.to_block())?;
        disk.write_all(archive)?;
        disk.set_len(PAYLOAD_DISK_BYTES)
    })();
    written.with_context(|| path.display().to_string())
}
