//! `cargo xtask bench`: how long the container takes to start and exit,
//! next to util-linux doing the same and a bare chroot, measured side by
//! side on the host (under software emulation in the VM, times mean little).
//! It runs as root on the host: the programs make their mounts private in
//! namespaces of their own and leave nothing behind.
//!
//! `cargo xtask bench --vm`: what the saved VM buys. For a small step and
//! the largest, VMs restored from the saved one and VMs booted cold, in
//! turn, each timed from QEMU's start to the scenario's start; then a
//! student's `cargo xtask verify sem` after an edit, and with `--check`, a
//! full warm `cargo xtask check` with snapshots on and off.

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

/// The steps `bench --vm` starts: the smallest payload and the largest.
const VM_STEPS: [&str; 2] = ["sem", "veth"];

/// `cargo xtask bench --vm`.
pub fn vm(runs: usize, check: bool) -> Result<()> {
    let course = Course::load()?;
    let steps: Vec<_> = VM_STEPS
        .iter()
        .map(|id| course.find(id).cloned())
        .collect::<Result<_>>()?;
    let builds: Vec<_> = steps
        .iter()
        .map(|s| (s.clone(), Variant::Solution))
        .collect();
    let lab = crate::setup::lab(&course, &builds)?;
    println!(
        "QEMU start to scenario start under {}, {runs} VMs each, restored and booted in turn (seconds)\n",
        lab.accel.name()
    );
    println!(
        "{:<8} {:<9} {:>7} {:>7} {:>7}",
        "step", "start", "median", "p10", "p90"
    );
    for step in &steps {
        let mut restored = Vec::new();
        let mut cold = Vec::new();
        for _ in 0..runs {
            for (list, restore) in [(&mut restored, true), (&mut cold, false)] {
                let payload = crate::setup::payload(&course, step, Variant::Solution, "true\n")?;
                let run = lab.run_as(&payload, restore)?;
                anyhow::ensure!(
                    run.end == crate::lab::VmEnd::Done && run.restored == restore,
                    "a {} VM of {} ended badly: {}",
                    if restore { "restored" } else { "booted" },
                    step.id,
                    run.end
                );
                list.push(run.overhead.context("the scenario never started")?);
            }
        }
        let (r, c) = (spread(&mut restored), spread(&mut cold));
        for (name, (median, p10, p90)) in [("restored", r), ("booted", c)] {
            println!(
                "{:<8} {name:<9} {median:>7.3} {p10:>7.3} {p90:>7.3}",
                step.id
            );
        }
        println!("{:<8} restore vs cold: {:.2}x\n", step.id, r.0 / c.0);
    }
    drop(lab);

    // A student's loop: an edit (touched, so that cargo builds again),
    // then verify. The untouched exercise fails: the time is what counts.
    let exe = std::env::current_exe().context("the xtask binary")?;
    let edited = crate::root().join("exercises/sem/src/main.rs");
    let mut times = Vec::new();
    for _ in 0..runs.min(5) {
        let file = std::fs::File::options()
            .append(true)
            .open(&edited)
            .with_context(|| edited.display().to_string())?;
        file.set_modified(std::time::SystemTime::now())?;
        let started = Instant::now();
        Command::new(&exe)
            .args(["verify", "sem"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("running cargo xtask verify sem")?;
        times.push(started.elapsed().as_secs_f64());
    }
    let (median, p10, p90) = spread(&mut times);
    println!(
        "cargo xtask verify sem after an edit: median {median:.2} s (p10 {p10:.2}, p90 {p90:.2}; {} runs)",
        times.len()
    );

    if check {
        let wall = |snapshot: &str| -> Result<f64> {
            let started = Instant::now();
            let status = Command::new(&exe)
                .arg("check")
                .env("NSLAB_SNAPSHOT", snapshot)
                .stdout(Stdio::null())
                .status()
                .context("running cargo xtask check")?;
            anyhow::ensure!(
                status.success(),
                "cargo xtask check (NSLAB_SNAPSHOT={snapshot}) failed"
            );
            Ok(started.elapsed().as_secs_f64())
        };
        // The first builds what the others find built.
        wall("on")?;
        let on = wall("on")?;
        let off = wall("off")?;
        println!(
            "full warm cargo xtask check: {on:.1} s restored, {off:.1} s booted ({:.2}x)",
            on / off
        );
    }
    Ok(())
}

/// Median, 10th and 90th percentiles.
fn spread(times: &mut [f64]) -> (f64, f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: usize| times[(times.len() * q / 100).min(times.len() - 1)];
    (at(50), at(10), at(90))
}
