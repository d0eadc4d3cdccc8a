//! `cargo xtask bench`: how long the container takes to start and exit,
//! next to util-linux doing the same and a bare chroot, measured side by
//! side on the host (under software emulation in the VM, times mean little).
//!
//! Runs as root on the host: the programs make their mounts private in
//! namespaces of their own and leave nothing behind.

use crate::course::{Course, Variant};
use crate::lab::{guest, host, initramfs};
use crate::vm_dir;
use anyhow::{Context, Result, bail};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One contender: a name and its command line, with ROOTFS for the root
/// filesystem.
struct Contender {
    name: &'static str,
    argv: Vec<String>,
    times: Vec<Duration>,
}

pub fn run(runs: usize) -> Result<()> {
    if !host::is_root() {
        bail!("the benchmark runs the programs on the host, as root: run it with sudo");
    }
    let course = Course::load()?;
    let step = course.find("container")?;
    let bins = guest::build(&[step.package(Variant::Solution)])?;
    let container = bins
        .get("container")
        .context("the build produced no container binary")?;
    let rootfs = vm_dir().join("bench-rootfs");
    let tools = host::ensure(&[])?;
    let mut tree = initramfs::Tree::default();
    initramfs::container_rootfs(
        &mut tree,
        &tools,
        "",
        &initramfs::busybox_applets(&tools.busybox)?,
    )?;
    tree.write_dir(&rootfs)?;
    let root = rootfs.display().to_string();

    let mut contenders = [
        Contender {
            name: "container (ours)",
            argv: vec![
                container.display().to_string(),
                "--rootfs".into(),
                root.clone(),
                "/bin/true".into(),
            ],
            times: Vec::new(),
        },
        Contender {
            name: "util-linux unshare",
            argv: [
                "unshare",
                "--fork",
                "--pid",
                "--mount",
                "--uts",
                "--ipc",
                "--mount-proc",
                "chroot",
                &root,
                "/bin/true",
            ]
            .map(String::from)
            .to_vec(),
            times: Vec::new(),
        },
        Contender {
            name: "bare chroot",
            argv: ["chroot", &root, "/bin/true"].map(String::from).to_vec(),
            times: Vec::new(),
        },
    ];
    // Warm the caches, and fail early if a contender does not work here.
    for c in &mut contenders {
        time_once(&c.argv)?;
    }
    // Interleaved, so that a change in the machine's load touches all alike.
    for _ in 0..runs {
        for c in &mut contenders {
            c.times.push(time_once(&c.argv)?);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = |c: &Contender| {
        let mut t = c.times.clone();
        t.sort();
        t[t.len() / 2]
    };
    println!("start-to-exit of /bin/true, {runs} runs each, interleaved (milliseconds)\n");
    println!(
        "{:<20} {:>8} {:>8} {:>8}   {:>12} {:>12}",
        "", "median", "p10", "p90", "vs unshare", "vs chroot"
    );
    let reference = median(&contenders[1]);
    let bare = median(&contenders[2]);
    for c in &contenders {
        let mut t = c.times.clone();
        t.sort();
        let m = median(c);
        println!(
            "{:<20} {:>8.2} {:>8.2} {:>8.2}   {:>11.2}x {:>11.2}x",
            c.name,
            ms(m),
            ms(t[t.len() / 10]),
            ms(t[t.len() * 9 / 10]),
            ms(m) / ms(reference),
            ms(m) / ms(bare)
        );
    }
    let ours = median(&contenders[0]);
    println!(
        "\ncontainer is {} util-linux unshare ({:.2}x).",
        if ours <= reference {
            "no slower than"
        } else {
            "SLOWER than"
        },
        ms(ours) / ms(reference)
    );
    Ok(())
}

fn time_once(argv: &[String]) -> Result<Duration> {
    let started = Instant::now();
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| argv[0].clone())?;
    let elapsed = started.elapsed();
    if !status.status.success() {
        bail!(
            "{} failed: {}",
            argv.join(" "),
            String::from_utf8_lossy(&status.stderr).trim()
        );
    }
    Ok(elapsed)
}
