//! What every VM has, whatever its run: the common files (busybox, /etc,
//! the container's root filesystem) and the base initramfs that carries
//! them with the guest init and the virtio modules.
//!
//! Wiring: imports [`super::host`], [`super::initramfs`] and
//! [`super::kernel`]; [`super::Lab::prepare`] makes the base initramfs once.

use super::host::Tools;
use super::initramfs::{self, Tree};
use super::kernel;
use crate::vm_dir;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The files every run has, whatever its step: busybox and its applets, the
/// few files of /etc and, since some steps use it, a container's root
/// filesystem at /rootfs. They go into the base initramfs
/// ([`nslab_protocol::COMMON_ARCHIVE`]): a restored VM has them already.
/// (A step's host tools stay in its payload: their libraries would show in
/// the VM's `/`.)
///
/// `rootfs`: whether some step uses the container's root filesystem.
pub fn common_files(tools: &Tools, applets: &[String], rootfs: bool) -> Result<Tree> {
    let mut tree = Tree::default();
    tree.dir("/dev")
        .dir("/proc")
        .dir("/sys")
        .dir("/tmp")
        .dir("/root")
        .file("/etc/passwd", PASSWD.into(), 0o644)
        .file("/etc/group", GROUP.into(), 0o644)
        .file("/etc/hostname", b"nslab\n".to_vec(), 0o644);
    tree.busybox("/bin", &tools.busybox, applets)?;
    if rootfs {
        initramfs::container_rootfs(&mut tree, tools, "/rootfs", applets)?;
    }
    Ok(tree)
}

/// The base initramfs: the guest init, the virtio modules and the `common`
/// files, the same for every step and run; kept in target/nslab-vm under a
/// digest of its bytes.
pub fn initramfs(tools: &Tools, init: &Path, common: &Tree) -> Result<PathBuf> {
    use sha2::Digest;
    let mut tree = Tree::default();
    tree.copy("/init", init, 0o755)?;
    let mut archive = Vec::new();
    common
        .write(&mut archive)
        .context("writing the common files")?;
    tree.file(nslab_protocol::COMMON_ARCHIVE, archive, 0o644);
    // The kernel opens /dev/console for init before it runs it.
    tree.char_dev("/dev/console", 5, 1)
        .char_dev("/dev/null", 1, 3);
    for module in nslab_protocol::BASE_MODULES {
        let path = kernel::module(tools, module)?;
        tree.copy(&format!("/lib/modules/{module}.ko"), &path, 0o644)?;
    }
    let mut archive = Vec::new();
    tree.write(&mut archive)
        .context("writing the base initramfs")?;
    let digest = sha2::Sha256::digest(&archive);
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let dir = vm_dir();
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let path = dir.join(format!("base-{name}.cpio"));
    if !path.exists() {
        let mut tmp =
            tempfile::NamedTempFile::new_in(&dir).with_context(|| dir.display().to_string())?;
        std::io::Write::write_all(&mut tmp, &archive).context("writing the base initramfs")?;
        tmp.persist(&path)
            .with_context(|| path.display().to_string())?;
        // Those of earlier inits are of no more use.
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("base-") && name.ends_with(".cpio") && entry.path() != path {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(path)
}

/// The VM's users: root, nobody, and student (uid 1000), an ordinary user
/// for the steps that run without privilege (`su student -c CMD`).
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nstudent:x:1000:1001:student:/tmp:/bin/sh\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\nstudent:x:1001:\n";
