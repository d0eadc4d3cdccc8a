//! The guest kernel: Debian's `linux-image-amd64`, booted uncompressed.
//!
//! /boot/vmlinuz is an XZ-compressed bzImage. Under software emulation the
//! guest would spend about 2.5 s decompressing it, so we unpack the ELF
//! `vmlinux` inside it once (it has a PVH entry point QEMU can boot directly)
//! and keep it in target/nslab-vm, keyed on the size and mtime of vmlinuz.

use crate::{Result, io_err, vm_dir};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The kernel to boot: `NSLAB_KERNEL`, or the newest /boot/vmlinuz-*.
pub fn find_vmlinuz() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("NSLAB_KERNEL") {
        return Ok(PathBuf::from(path));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/boot")
        .map_err(|e| io_err("/boot", e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .collect();
    found.sort_by_key(|p| version_key(p));
    found
        .pop()
        .ok_or_else(|| "no kernel in /boot (install linux-image-amd64)".to_string())
}

/// Sort key for `vmlinuz-6.1.0-56-amd64`: the numbers, compared as numbers.
fn version_key(path: &Path) -> Vec<u64> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// The kernel release, from the file name: `6.1.0-56-amd64`.
pub fn release(vmlinuz: &Path) -> String {
    let name = vmlinuz.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.strip_prefix("vmlinuz-").unwrap_or(name).to_string()
}

/// The kernel image QEMU boots: the unpacked ELF when we could get it, the
/// bzImage itself otherwise (slower, but correct).
pub fn bootable(vmlinuz: &Path) -> Result<PathBuf> {
    let meta = std::fs::metadata(vmlinuz).map_err(|e| io_err(vmlinuz.display(), e))?;
    let dir = vm_dir();
    std::fs::create_dir_all(&dir).map_err(|e| io_err(dir.display(), e))?;
    let cached = dir.join(format!(
        "vmlinux-{}-{}-{}",
        release(vmlinuz),
        meta.len(),
        meta.mtime()
    ));
    if cached.exists() {
        return Ok(cached);
    }
    let image = std::fs::read(vmlinuz).map_err(|e| {
        io_err(
            format!(
                "{} (set NSLAB_KERNEL to a readable copy)",
                vmlinuz.display()
            ),
            e,
        )
    })?;
    match unpack_xz_elf(&image) {
        Some(elf) => {
            let tmp = cached.with_extension("tmp");
            std::fs::write(&tmp, elf).map_err(|e| io_err(tmp.display(), e))?;
            std::fs::rename(&tmp, &cached).map_err(|e| io_err(cached.display(), e))?;
            Ok(cached)
        }
        None => Ok(vmlinuz.to_path_buf()),
    }
}

/// Find the XZ stream in a bzImage and decompress it with `xz`. The stream is
/// followed by other data, so xz exits non-zero; the ELF magic tells whether
/// we got the kernel.
fn unpack_xz_elf(image: &[u8]) -> Option<Vec<u8>> {
    const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
    let start = image.windows(XZ_MAGIC.len()).position(|w| w == XZ_MAGIC)?;
    let mut xz = Command::new("xz")
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
pub fn module(vmlinuz: &Path, name: &str) -> Result<PathBuf> {
    let dir = Path::new("/lib/modules").join(release(vmlinuz));
    let wanted = format!("{name}.ko");
    find_file(&dir.join("kernel"), &wanted)
        .ok_or_else(|| format!("kernel module {wanted} not found under {}", dir.display()))
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}
