//! The host packages the VM needs, and installing them where we may.
//!
//! On a fresh Debian or Ubuntu machine, as root, missing packages are
//! installed with apt-get (and we say so). Otherwise we stop with one line
//! naming the packages for the administrator to install.

use crate::Result;
use std::path::Path;
use std::process::Command;

/// A host requirement: how to tell it is there, and the Debian package.
struct Need {
    package: &'static str,
    present: fn() -> bool,
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

const NEEDS: &[Need] = &[
    Need {
        package: "qemu-system-x86",
        present: || on_path("qemu-system-x86_64"),
    },
    Need {
        package: "linux-image-amd64",
        present: || crate::kernel::find_vmlinuz().is_ok(),
    },
    Need {
        package: "xz-utils",
        present: || on_path("xz"),
    },
    Need {
        package: "busybox-static",
        present: || crate::initramfs::find_busybox().is_ok(),
    },
    Need {
        package: "iproute2",
        present: || Path::new("/usr/sbin/ip").exists() || Path::new("/sbin/ip").exists(),
    },
];

/// The packages that are missing on this machine.
pub fn missing() -> Vec<&'static str> {
    NEEDS
        .iter()
        .filter(|need| !(need.present)())
        .map(|need| need.package)
        .collect()
}

/// Make sure everything is there: install it when we are root with apt-get,
/// or fail with the list of packages to install.
pub fn ensure() -> Result<()> {
    let missing = missing();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    let root = is_root();
    if !root || !on_path("apt-get") {
        return Err(format!(
            "the VM needs packages that are not installed: {list}\n\
             ask an administrator to run: sudo apt-get install --no-install-recommends {list}"
        ));
    }
    eprintln!("nslab: installing {list} (apt-get)");
    let quiet = |cmd: &mut Command| {
        cmd.env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("apt-get: {e}"))
    };
    // The package lists of a fresh machine may be empty or stale.
    quiet(Command::new("apt-get").args(["update", "-qq"]))?;
    let status = quiet(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing),
    )?;
    if !status.success() {
        return Err(format!("apt-get install {list} failed ({status})"));
    }
    let still = self::missing();
    if !still.is_empty() {
        return Err(format!("still missing after apt-get: {}", still.join(" ")));
    }
    Ok(())
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}
