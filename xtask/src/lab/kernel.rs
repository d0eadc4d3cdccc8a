//! The guest kernel, booted uncompressed.
//!
//! A Debian vmlinuz is an XZ-compressed bzImage. Under software emulation
//! the guest would spend about 2.5 s decompressing it, so we unpack the ELF
//! `vmlinux` inside it once (it has a PVH entry point QEMU can boot directly)
//! and keep it in target/nslab-vm, keyed on the image's release, size and
//! mtime. The cache is written to a temporary file of its own and renamed
//! into place, so that two processes filling it at once both succeed.
//!
//! Wiring: imports [`super::host`] (the Debian kernel and its modules);
//! [`super::Lab::prepare`] and [`super::base`] use it.

use super::host::Tools;
use crate::vm_dir;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

/// The kernel image QEMU boots: the unpacked ELF when we could get it, the
/// bzImage itself otherwise (slower, but correct).
pub fn bootable(tools: &Tools) -> Result<PathBuf> {
    let dir = vm_dir();
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let cached = dir.join(format!("vmlinux-{}", tools.kernel_key()?));
    if cached.exists() {
        return Ok(cached);
    }
    let image = std::fs::read(&tools.vmlinuz).with_context(|| {
        format!(
            "{}: cannot read the kernel image (set NSLAB_KERNEL to a readable copy)",
            tools.vmlinuz.display()
        )
    })?;
    match unpack_xz_elf(tools, &image) {
        Some(elf) => {
            let mut tmp =
                tempfile::NamedTempFile::new_in(&dir).with_context(|| dir.display().to_string())?;
            tmp.write_all(&elf)
                .with_context(|| tmp.path().display().to_string())?;
            tmp.persist(&cached)
                .with_context(|| cached.display().to_string())?;
            Ok(cached)
        }
        None => Ok(tools.vmlinuz.clone()),
    }
}

/// Find the XZ stream in a bzImage and decompress it with `xz`. The stream is
/// followed by other data, so xz exits non-zero; the ELF magic tells whether
/// we got the kernel.
fn unpack_xz_elf(tools: &Tools, image: &[u8]) -> Option<Vec<u8>> {
    const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
    let start = image.windows(XZ_MAGIC.len()).position(|w| w == XZ_MAGIC)?;
    let mut xz = tools
        .command(&tools.xz)
        .args(["-dc", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = xz.stdin.take()?;
    let tail = image[start..].to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&tail));
    let out = xz.wait_with_output().ok()?;
    let _ = writer.join();
    out.stdout.starts_with(b"\x7fELF").then_some(out.stdout)
}

/// A kernel module of the guest kernel, e.g. `veth`.
pub fn module(tools: &Tools, name: &str) -> Result<PathBuf> {
    let wanted = format!("{name}.ko");
    walkdir::WalkDir::new(&tools.modules)
        .into_iter()
        .flatten()
        .find(|e| e.file_type().is_file() && e.file_name() == wanted.as_str())
        .map(walkdir::DirEntry::into_path)
        .with_context(|| {
            format!(
                "kernel module {wanted} not found under {}",
                tools.modules.display()
            )
        })
}
