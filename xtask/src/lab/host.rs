//! What the VM needs from the host — QEMU, a Debian kernel, a static busybox,
//! iproute2's `ip`, `xz` — found on the host or fetched into
//! `target/nslab-vm/host` without changing the host.
//!
//! The host is not ours: nothing here installs, removes or upgrades a
//! package. What is missing is fetched as Debian packages (`apt-get
//! download`, which needs no root) with the dependencies the host lacks, and
//! unpacked (`dpkg-deb -x`) into a directory of our own; QEMU then runs from
//! there with its libraries and firmware. dpkg's database is never touched,
//! so no package of the host can conflict with ours (a backported
//! `qemu-utils` stays as it is), and an ordinary user can do it as well as
//! root. The one change root may make is `apt-get update` when apt has no
//! package lists at all, and it says so first.
//!
//! Wiring: imports nothing of the lab (only [`crate::vm_dir`]); the rest of
//! [`crate::lab`] finds its programs through [`Tools`].

use crate::vm_dir;
use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where fetched packages are unpacked: a root of their own.
fn fetched_root() -> PathBuf {
    vm_dir().join("host").join("root")
}

/// Whether `program` is on the host's PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// What the VM runs with, wherever each piece came from.
#[derive(Debug, Clone)]
pub struct Tools {
    pub qemu: PathBuf,
    /// Firmware directories (QEMU's `-L`) of a QEMU fetched into target/.
    pub qemu_data: Vec<PathBuf>,
    /// The Debian kernel image (bzImage) to boot.
    pub vmlinuz: PathBuf,
    /// Its modules: `lib/modules/<release>`.
    pub modules: PathBuf,
    pub busybox: PathBuf,
    pub xz: PathBuf,
    /// iproute2's `ip`, which the network steps carry into the VM.
    pub ip: PathBuf,
    /// `LD_LIBRARY_PATH` for fetched programs (and for `ldd` on them).
    pub library_path: Option<OsString>,
    /// The root that fetched programs live under, stripped from their
    /// libraries' paths when they are carried into the VM.
    pub root: Option<PathBuf>,
}

/// A program the VM needs, and the Debian package that has it.
struct Need {
    what: &'static str,
    package: &'static str,
    /// Where to look, relative to a root (`/` or the fetched root).
    paths: &'static [&'static str],
    /// Fetch the package's dependencies too (those the host lacks).
    dependencies: bool,
}

const QEMU: Need = Need {
    what: "QEMU",
    package: "qemu-system-x86",
    paths: &["usr/bin/qemu-system-x86_64"],
    dependencies: true,
};
const BUSYBOX: Need = Need {
    what: "a static busybox",
    package: "busybox-static",
    paths: &["bin/busybox", "usr/bin/busybox"],
    dependencies: false,
};
const XZ: Need = Need {
    what: "xz",
    package: "xz-utils",
    paths: &["usr/bin/xz", "bin/xz"],
    dependencies: false,
};
const IP: Need = Need {
    what: "iproute2's ip",
    package: "iproute2",
    paths: &["usr/sbin/ip", "sbin/ip", "bin/ip"],
    dependencies: true,
};
/// The kernel is looked for by its own rules ([`find_kernel`]).
const KERNEL: Need = Need {
    what: "a Debian kernel",
    package: "linux-image-amd64",
    paths: &[],
    dependencies: true,
};

impl Need {
    /// Whether `root` has it: the kernel by its own rule, the others by path.
    fn present_in(&self, root: &Path) -> bool {
        match self.package == KERNEL.package {
            true => newest_vmlinuz(root).is_some(),
            false => self.find_in(root).is_some(),
        }
    }

    fn find_in(&self, root: &Path) -> Option<PathBuf> {
        self.paths
            .iter()
            .map(|p| root.join(p))
            .find(|p| p.is_file() && (self.package != BUSYBOX.package || is_static(p)))
    }
}

/// A static executable has no PT_INTERP program header, so no "/lib64/ld-"
/// path in its first kilobytes: enough to tell busybox-static from the
/// dynamic busybox package.
fn is_static(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| {
        let head = &bytes[..bytes.len().min(4096)];
        !head.windows(3).any(|w| w == b"ld-")
    })
}

/// The kernel image named by `NSLAB_KERNEL`, checked before anything boots.
pub fn kernel_from_env() -> Result<Option<PathBuf>> {
    let Some(value) = std::env::var_os("NSLAB_KERNEL") else {
        return Ok(None);
    };
    if value.is_empty() {
        bail!("NSLAB_KERNEL is set but empty: unset it, or point it at a kernel image (vmlinuz)");
    }
    let path = PathBuf::from(&value);
    let head = read_head(&path)
        .with_context(|| format!("NSLAB_KERNEL={}: cannot read it", path.display()))?;
    if !is_kernel_image(&head) {
        bail!(
            "NSLAB_KERNEL={}: not a Linux kernel image (neither a bzImage nor an ELF vmlinux)",
            path.display()
        );
    }
    Ok(Some(path))
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = vec![0; 1024];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    head.truncate(n);
    Ok(head)
}

/// A bzImage has "HdrS" at 0x202 (Documentation/arch/x86/boot.rst); a vmlinux
/// is an ELF file.
fn is_kernel_image(head: &[u8]) -> bool {
    head.get(0x202..0x206) == Some(b"HdrS") || head.starts_with(b"\x7fELF")
}

/// The newest readable `boot/vmlinuz-*` under `root`.
fn newest_vmlinuz(root: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("boot"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
                && std::fs::File::open(p).is_ok()
        })
        .collect();
    found.sort_by_key(|p| version_key(p));
    found.pop()
}

/// Sort key for `vmlinuz-6.1.0-56-amd64`: the numbers, compared as numbers.
fn version_key(path: &Path) -> Vec<u64> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// The kernel release, from the image's file name: `6.1.0-56-amd64`.
pub fn release(vmlinuz: &Path) -> String {
    let name = vmlinuz.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.strip_prefix("vmlinuz-").unwrap_or(name).to_string()
}

/// Whether the newest kernel under `root` has each of `modules` beside it.
fn has_modules(root: &Path, modules: &[String]) -> bool {
    let Some(vmlinuz) = newest_vmlinuz(root) else {
        return false;
    };
    let dir = root.join("lib/modules").join(release(&vmlinuz));
    let found: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".ko")
                .map(String::from)
        })
        .collect();
    modules.iter().all(|m| found.contains(m))
}

/// The kernel: `NSLAB_KERNEL`, else a readable /boot/vmlinuz-*, else one
/// fetched before. Its modules sit beside it (`lib/modules/<release>` of the
/// same root), or in the host's /lib/modules.
fn find_kernel(fetched: &Path) -> Result<Option<(PathBuf, PathBuf)>> {
    let with_modules = |vmlinuz: PathBuf, root: &Path| {
        let beside = root.join("lib/modules").join(release(&vmlinuz));
        let modules = if beside.is_dir() {
            beside
        } else {
            Path::new("/lib/modules").join(release(&vmlinuz))
        };
        (vmlinuz, modules)
    };
    if let Some(path) = kernel_from_env()? {
        return Ok(Some(with_modules(path, Path::new("/"))));
    }
    for root in [Path::new("/"), fetched] {
        if let Some(vmlinuz) = newest_vmlinuz(root) {
            return Ok(Some(with_modules(vmlinuz, root)));
        }
    }
    Ok(None)
}

/// Find everything, fetching what is missing. `modules` are the kernel
/// modules the steps load (only those are unpacked from a fetched kernel).
pub fn ensure(modules: &[String]) -> Result<Tools> {
    let fetched = fetched_root();
    let host = Path::new("/");
    // What the host lacks is fetched, all together into one root: again
    // whenever that root lacks any of it.
    let mut lacking: Vec<&Need> = [&QEMU, &BUSYBOX, &XZ, &IP]
        .into_iter()
        .filter(|need| need.find_in(host).is_none())
        .collect();
    let host_kernel = kernel_from_env()?.is_some() || newest_vmlinuz(host).is_some();
    if !host_kernel {
        lacking.push(&KERNEL);
    }
    // A fetched kernel is complete with every module a run loads.
    let complete = |root: &Path| {
        lacking.iter().all(|need| need.present_in(root))
            && (host_kernel || has_modules(root, modules))
    };
    if !complete(&fetched) {
        fetch(&lacking, modules, complete)?;
    }
    let get = |need: &Need| -> Result<(PathBuf, bool)> {
        if let Some(path) = need.find_in(host) {
            return Ok((path, false));
        }
        need.find_in(&fetched)
            .map(|p| (p, true))
            .with_context(|| format!("{} is missing after fetching {}", need.what, need.package))
    };
    let (qemu, qemu_fetched) = get(&QEMU)?;
    let (busybox, _) = get(&BUSYBOX)?;
    let (xz, _) = get(&XZ)?;
    let (ip, _) = get(&IP)?;
    let (vmlinuz, modules_dir) =
        find_kernel(&fetched)?.context("no kernel image, even after fetching linux-image-amd64")?;
    let fetched = (!lacking.is_empty()).then_some(fetched);
    Ok(Tools {
        qemu,
        qemu_data: match (&fetched, qemu_fetched) {
            (Some(root), true) => ["usr/share/qemu", "usr/share/seabios"]
                .iter()
                .map(|d| root.join(d))
                .collect(),
            _ => Vec::new(),
        },
        vmlinuz,
        modules: modules_dir,
        busybox,
        xz,
        ip,
        library_path: fetched.as_ref().map(|root| {
            std::env::join_paths(
                ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"]
                    .iter()
                    .map(|d| root.join(d)),
            )
            .unwrap_or_default()
        }),
        root: fetched,
    })
}

impl Tools {
    /// A program to carry into the VM: iproute2's `ip` (by name), or any
    /// other by its absolute host path.
    pub fn program(&self, name: &str) -> Result<PathBuf> {
        if name == "ip" {
            return Ok(self.ip.clone());
        }
        let path = PathBuf::from(name);
        anyhow::ensure!(path.is_file(), "{name}: no such program on this machine");
        Ok(path)
    }

    /// A command for a program that may have been fetched: its libraries
    /// on the library path.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        if let Some(path) = &self.library_path {
            cmd.env("LD_LIBRARY_PATH", path);
        }
        cmd
    }

    /// Where a library `ldd` found lives inside the VM: its path on a
    /// Debian system, without the fetched root.
    pub fn guest_path(&self, host: &Path) -> PathBuf {
        match self.root.as_deref().map(|root| host.strip_prefix(root)) {
            Some(Ok(rel)) => Path::new("/").join(rel),
            _ => host.to_path_buf(),
        }
    }

    /// A key of this toolset, for caches that depend on the kernel.
    pub fn kernel_key(&self) -> Result<String> {
        let meta =
            std::fs::metadata(&self.vmlinuz).with_context(|| self.vmlinuz.display().to_string())?;
        Ok(format!(
            "{}-{}-{}",
            release(&self.vmlinuz),
            meta.len(),
            meta.mtime()
        ))
    }
}

/// Fetch the packages of `needs` (and the dependencies the host lacks) and
/// unpack them into a new fetched root, swapped in whole when it is ready:
/// one process at a time, and an interrupted fetch leaves nothing half done.
fn fetch(needs: &[&Need], modules: &[String], complete: impl Fn(&Path) -> bool) -> Result<()> {
    let dir = vm_dir().join("host");
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let lock = std::fs::File::create(dir.join("lock")).context("target/nslab-vm/host/lock")?;
    lock.lock().context("locking target/nslab-vm/host")?;
    let root = fetched_root();
    // Another process may have fetched them while we waited.
    if complete(&root) {
        return Ok(());
    }
    let wanted: Vec<&str> = needs.iter().map(|n| n.package).collect();
    let what: Vec<&str> = needs.iter().map(|n| n.what).collect();
    if !on_path("apt-get") || !on_path("dpkg-deb") {
        bail!(
            "the VM needs {} and this machine has neither them nor apt-get to fetch them; \
             install the Debian or Ubuntu packages {}",
            what.join(", "),
            wanted.join(" ")
        );
    }
    // Said before apt is asked what they need: on a loaded machine that
    // alone can take half a minute.
    eprintln!(
        "nslab: the VM needs {} ({}): fetching them, with what this machine lacks of their \
         dependencies, into target/nslab-vm/host with apt-get download, once (about 100 MB: \
         well under a minute on a fast link); nothing is installed on this machine",
        what.join(", "),
        wanted.join(" ")
    );
    let mut packages = Vec::new();
    for need in needs {
        let closure = if need.dependencies {
            resolve(need.package)?
        } else {
            vec![need.package.to_string()]
        };
        for package in closure {
            // Of a kernel, only the image package itself (linux-image-6.1.0-…;
            // not the metapackage, nor initramfs-tools, kmod...: those are
            // for installing it, not for booting it in QEMU).
            if need.package == KERNEL.package && !is_kernel_package(&package) {
                continue;
            }
            if !packages.contains(&package) {
                packages.push(package);
            }
        }
    }
    let debs = tempfile::Builder::new()
        .prefix("debs-")
        .tempdir_in(&dir)
        .context("target/nslab-vm/host")?;
    let mut download = Command::new("apt-get");
    download.current_dir(debs.path()).args(["download", "-qq"]);
    if is_root() {
        // apt drops to the _apt user to download, who cannot write here.
        download.args(["-o", "APT::Sandbox::User=root"]);
    }
    let out = download
        .args(&packages)
        .output()
        .context("running apt-get download")?;
    if !out.status.success() {
        bail!(
            "apt-get download {} failed: {}",
            packages.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let staging = tempfile::Builder::new()
        .prefix("root-")
        .tempdir_in(&dir)
        .context("target/nslab-vm/host")?;
    for deb in walkdir::WalkDir::new(debs.path())
        .min_depth(1)
        .max_depth(1)
        .sort_by_file_name()
    {
        let deb = deb?.into_path();
        let is_kernel = deb
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_kernel_package);
        unpack(&deb, staging.path(), is_kernel.then_some(modules))
            .with_context(|| format!("unpacking {}", deb.display()))?;
    }
    anyhow::ensure!(
        complete(staging.path()),
        "the packages fetched ({}) do not have everything the VM needs",
        packages.join(" ")
    );
    crate::replace_dir(&staging.keep(), &root)
}

/// A kernel image package (`linux-image-6.1.0-48-amd64`), not a
/// metapackage (`linux-image-amd64`).
fn is_kernel_package(name: &str) -> bool {
    name.strip_prefix("linux-image-")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// The package and every dependency that is not installed, as apt would
/// install them: `apt-get -s` (a simulation, which any user may run) lists
/// them as `Inst NAME (VERSION ...)`; a package already installed shows its
/// version in brackets (`Inst NAME [OLD] (NEW ...)`) and is skipped: the
/// host's own version is the one used.
fn resolve(package: &str) -> Result<Vec<String>> {
    let simulate = || {
        Command::new("apt-get")
            .args(["install", "-s", "-qq", "--no-install-recommends", package])
            .env("LANG", "C")
            .output()
            .context("running apt-get -s")
    };
    let mut out = simulate()?;
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    if !text(&out).contains("Inst ") && !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if err.contains("Unable to locate package") || err.contains("has no installation candidate")
        {
            if !is_root() {
                bail!(
                    "apt knows no package {package}: its package lists may be empty; \
                     an administrator runs `apt-get update` once"
                );
            }
            eprintln!(
                "nslab: apt knows no package {package}: refreshing its package lists \
                 (apt-get update; no installed package changes)"
            );
            let status = Command::new("apt-get")
                .args(["update", "-qq"])
                .status()
                .context("running apt-get update")?;
            anyhow::ensure!(status.success(), "apt-get update failed ({status})");
            out = simulate()?;
        }
    }
    let names: Vec<String> = text(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .filter(|rest| {
            !rest
                .split_whitespace()
                .nth(1)
                .is_some_and(|w| w.starts_with('['))
        })
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        bail!(
            "apt cannot tell what {package} needs: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(names)
}

/// Unpack a .deb into `root`; of a kernel package only the image and the
/// modules named.
fn unpack(deb: &Path, root: &Path, modules: Option<&[String]>) -> Result<()> {
    let Some(modules) = modules else {
        let status = Command::new("dpkg-deb")
            .arg("-x")
            .arg(deb)
            .arg(root)
            .status()?;
        anyhow::ensure!(status.success(), "dpkg-deb -x failed ({status})");
        return Ok(());
    };
    // dpkg-deb --fsys-tarfile | tar -x --wildcards PATTERNS
    let mut patterns = vec!["./boot/vmlinuz-*".to_string()];
    patterns.extend(modules.iter().map(|m| format!("*/{m}.ko")));
    let mut tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(root)
        .arg("--wildcards")
        .args(&patterns)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .context("running tar")?;
    let stdin = tar.stdin.take().context("tar's stdin")?;
    let status = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(stdin)
        .status()?;
    let tar_status = tar.wait()?;
    anyhow::ensure!(
        status.success() && tar_status.success(),
        "dpkg-deb --fsys-tarfile | tar failed ({status}, {tar_status})"
    );
    Ok(())
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
