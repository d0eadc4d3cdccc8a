//! A booted VM, saved once and restored for every run.
//!
//! Every VM boots the same kernel and the same base initramfs to the same
//! point: the init has loaded the virtio modules, printed
//! `READY` and waits for its payload disk. So
//! xtask boots that once, saves the VM there through QEMU's monitor (QMP
//! `stop`, then `migrate` to a file), and starts each run from it and the
//! run's own payload disk: the guest finds its header at its next look, and
//! goes on as if it had booted. Each run is still a VM of its own, thrown away
//! at its end; only the boot is shared.
//!
//! The saved VM is two files, as in Kata Containers' VM templating:
//! - `KEY.ram`, the guest's memory itself. The saved VM's RAM is a file
//!   (`memory-backend-file`, `share=on`), so what the guest wrote is in it
//!   when the VM stops;
//! - `KEY.state`, the devices' state (a few hundred KB): migrated with the
//!   capability `x-ignore-shared`, QEMU leaves shared RAM out of the stream.
//!
//! A run maps `KEY.ram` privately (`share=off`: copy on write, the file
//! never changes) and loads `KEY.state` (`-incoming defer`, then QMP on
//! QEMU's stdin and stdout). QEMU accepts a private destination since 4.1
//! (commit "migration: allow private destination ram with x-ignore-shared");
//! the capability cannot be set on 7.2's command line, hence the QMP. The
//! guest's pages come from the host's page cache as it touches them, instead
//! of 60 MB being copied through the migration stream at every start.
//!
//! The state is cached in `target/nslab-vm/snapshots`, named by a key of
//! everything it depends on: the kernel, the base initramfs, the QEMU binary,
//! the accelerator (and the CPU, under KVM), and QEMU's whole command line.
//! Change any of them and the next run saves a new one. A restore that fails
//! makes this process boot cold from then on, and says so once
//! ([`super::machine`]'s policy); `NSLAB_SNAPSHOT=off` always boots cold.
//!
//! Wiring: imports [`super::qemu`] (the command line, the process) and
//! [`super::qmp`] (the monitor); [`super::vm`] restores through it, and
//! [`super::Lab`] saves the VM once through it.

use super::qemu::{Accel, Qemu, Start, shows};
use super::qmp::Monitor;
use crate::vm_dir;
use anyhow::{Context, Result, bail};
use nslab_protocol::{PAYLOAD_DISK_BYTES, READY};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::BufReader;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Whether snapshots are wanted: `NSLAB_SNAPSHOT=off` (or `0`) boots every
/// VM cold. Any other value but `on`/`1`/empty is an error, named.
pub fn wanted() -> Result<bool> {
    match std::env::var("NSLAB_SNAPSHOT").as_deref() {
        Err(_) | Ok("" | "on" | "1") => Ok(true),
        Ok("off" | "0") => Ok(false),
        Ok(other) => bail!(
            "NSLAB_SNAPSHOT must be on (restore a saved VM: the default) or off (boot every VM), not '{other}'"
        ),
    }
}

/// The key of a saved state: a digest of what it depends on. `machine` is
/// the base QEMU, whose command line (with its per-run paths left out) is
/// part of the key.
fn key(machine: &Qemu) -> Result<String> {
    let mut hash = Sha256::new();
    let mut file = |path: &Path| -> Result<()> {
        let meta = std::fs::metadata(path).with_context(|| path.display().to_string())?;
        hash.update(format!(
            "{}:{}:{}\n",
            path.display(),
            meta.len(),
            meta.mtime()
        ));
        Ok(())
    };
    file(&machine.kernel)?;
    file(&machine.tools.qemu)?;
    // The base initramfs is named by a digest of its bytes
    // (`lab::base::initramfs`): its name says what it holds.
    file(&machine.initramfs)?;
    hash.update(machine.accel.name());
    if machine.accel == Accel::Kvm {
        // -cpu host: the CPU's model and features are in the state.
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        for line in cpuinfo.lines().take_while(|l| !l.is_empty()) {
            if line.starts_with("model name") || line.starts_with("flags") {
                hash.update(line);
            }
        }
    }
    let placeholder = Qemu {
        disk: PathBuf::from("DISK"),
        out_dir: PathBuf::from("OUT"),
        ..machine.clone()
    };
    for arg in placeholder.command(Start::Cold).get_args() {
        hash.update(arg.as_encoded_bytes());
        hash.update([0]);
    }
    hash.update(PAYLOAD_DISK_BYTES.to_le_bytes());
    // How the state is saved: the RAM in its own file.
    hash.update(b"ram file, x-ignore-shared");
    let digest = hash.finalize();
    Ok(digest[..12].iter().map(|b| format!("{b:02x}")).collect())
}

fn dir() -> PathBuf {
    vm_dir().join("snapshots")
}

/// The guest memory file of the saved state `state`.
pub fn ram_of(state: &Path) -> PathBuf {
    state.with_extension("ram")
}

/// The saved state for VMs like `machine` (its memory beside it, see
/// [`ram_of`]): found in the cache, or made now (once, whichever process
/// asks first; the others wait for it).
pub fn ensure(machine: &Qemu) -> Result<PathBuf> {
    let dir = dir();
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let path = dir.join(format!("{}.state", key(machine)?));
    // The state is renamed into place after its memory: it says both are.
    if path.exists() {
        return Ok(path);
    }
    let lock = std::fs::File::create(dir.join("lock")).context("target/nslab-vm/snapshots/lock")?;
    lock.lock().context("locking target/nslab-vm/snapshots")?;
    if path.exists() {
        return Ok(path);
    }
    eprintln!(
        "nslab: booting a VM once to save it, so that every run starts from it \
         (NSLAB_SNAPSHOT=off to boot every VM instead)"
    );
    let started = Instant::now();
    save(machine, &path)?;
    // The states of other kernels, QEMUs or options are of no more use.
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let other = entry.path();
        let saved = other
            .extension()
            .is_some_and(|e| e == "state" || e == "ram");
        if saved && other != path && other != ram_of(&path) {
            let _ = std::fs::remove_file(other);
        }
    }
    eprintln!(
        "nslab: saved the booted VM in {:.1} s ({} MB of memory, {} KB of devices)",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(ram_of(&path)).map_or(0, |m| (m.blocks() * 512) >> 20),
        std::fs::metadata(&path).map_or(0, |m| m.len() >> 10)
    );
    Ok(path)
}

/// Boot `machine` with a blank payload disk until its init is ready, and
/// save it to `path`.
fn save(machine: &Qemu, path: &Path) -> Result<()> {
    let work = tempfile::tempdir_in(dir()).context("a directory to save the VM in")?;
    let disk = work.path().join("blank.img");
    std::fs::File::create(&disk)
        .and_then(|f| f.set_len(PAYLOAD_DISK_BYTES))
        .with_context(|| disk.display().to_string())?;
    let qmp = work.path().join("qmp.sock");
    let ram = work.path().join("ram");
    let base = Qemu {
        disk,
        out_dir: work.path().to_path_buf(),
        ..machine.clone()
    };
    let mut cmd = base.command(Start::Save {
        qmp: &qmp,
        ram: &ram,
    });
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let (mut child, registered) = base.spawn(&mut cmd)?;
    let result = (|| {
        let console = work.path().join(nslab_protocol::Port::Console.name());
        let deadline = Instant::now() + base.accel.boot_limit();
        loop {
            if std::fs::read(&console).is_ok_and(|text| shows(&text, READY)) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                bail!("QEMU ended ({status}) before the VM was ready");
            }
            if Instant::now() > deadline {
                bail!("the VM was not ready after {:?}", base.accel.boot_limit());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let state = work.path().join("state");
        let mut monitor = Monitor::connect(&qmp)?;
        monitor.execute("stop", json!({}))?;
        // The RAM stays in its file, out of the stream.
        monitor.execute("migrate-set-capabilities", ignore_shared())?;
        // No bandwidth limit: the state goes to a file.
        monitor.execute(
            "migrate-set-parameters",
            json!({ "max-bandwidth": 1u64 << 40 }),
        )?;
        let uri = format!(
            "exec:cat > {}",
            shell_words::quote(&state.to_string_lossy())
        );
        monitor.execute("migrate", json!({ "uri": uri }))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = monitor.execute("query-migrate", json!({}))?;
            match status["status"].as_str() {
                Some("completed") => break,
                Some("failed" | "cancelled") => {
                    bail!("QEMU could not save the VM: {}", status["error-desc"])
                }
                _ if Instant::now() > deadline => bail!("saving the VM took over a minute"),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = monitor.execute("quit", json!({}));
        // The memory is complete once QEMU has quit: then the state.
        use wait_timeout::ChildExt;
        child
            .wait_timeout(Duration::from_secs(10))
            .context("waiting for QEMU to quit")?
            .context("QEMU did not quit within 10 s of being asked")?;
        std::fs::rename(&ram, ram_of(path)).with_context(|| path.display().to_string())?;
        std::fs::rename(&state, path).with_context(|| path.display().to_string())?;
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    drop(registered);
    if result.is_err() {
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            use std::io::Read;
            let _ = err.read_to_string(&mut stderr);
        }
        if !stderr.trim().is_empty() {
            return result.with_context(|| format!("QEMU said: {}", stderr.trim()));
        }
    }
    result
}

/// The arguments of `migrate-set-capabilities` that leave shared RAM out of
/// the stream: set on both sides (the stream's format depends on it).
fn ignore_shared() -> Value {
    json!({ "capabilities": [{ "capability": "x-ignore-shared", "state": true }] })
}

/// Start restoring `state` in a QEMU started with `-incoming defer` and its
/// monitor on its stdin and stdout: the capability, then the state. Gives
/// the monitor back, to be kept open as long as QEMU runs. Runs in a thread
/// of its own, so that a QEMU that never answers cannot hold the run: the
/// caller waits for it as long as for a boot.
pub fn restore(
    stdin: std::process::ChildStdin,
    stdout: std::process::ChildStdout,
    state: &Path,
    limit: Duration,
) -> Result<Monitor> {
    let uri = format!("exec:cat {}", shell_words::quote(&state.to_string_lossy()));
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send((|| {
            let mut monitor = Monitor::over(BufReader::new(stdout), stdin)?;
            monitor.execute("migrate-set-capabilities", ignore_shared())?;
            monitor.execute("migrate-incoming", json!({ "uri": uri }))?;
            Ok(monitor)
        })());
    });
    result
        .recv_timeout(limit)
        .unwrap_or_else(|_| bail!("QEMU's monitor did not answer in {limit:?}"))
}
