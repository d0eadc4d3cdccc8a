//! The contract between the VM's init (`crates/vm-init`) and the host
//! (`xtask`): the one place that says how they talk.
//!
//! A VM boots the same way for every run, and only then gets its run:
//!
//! - The kernel boots a small initramfs holding the init, the
//!   [`BASE_MODULES`] (virtio, for a disk) and the [`COMMON_ARCHIVE`]: the
//!   files every run has (busybox and its applets, /etc, the container's
//!   root filesystem). The init loads the modules, unpacks the common files
//!   into a tmpfs, prints [`READY`] on the console and waits for its payload
//!   on the disk `/dev/vda`. This state is the same for every run: the host
//!   saves it once and restores it for each run (a VM snapshot), or boots to
//!   it (cold).
//! - The payload disk holds a [`PayloadHeader`] (the run's [`RunArgs`], an
//!   entropy seed, the archive's length) in its first [`PAYLOAD_OFFSET`]
//!   bytes, then a newc cpio archive: the step's programs, the earlier
//!   steps', its host tools, the scenario. The host gives each run a disk of
//!   its own, of [`PAYLOAD_DISK_BYTES`] whatever it holds (the guest learnt
//!   the disk's size before the snapshot).
//! - The init unpacks the archive into the same tmpfs and makes it the root
//!   (`/` is then a mount, which `pivot_root(2)` needs, unlike the
//!   initramfs), prints [`BOOTED`], and runs the scenario.
//! - The guest has four serial ports ([`Port`]), each a file on the host:
//!   the console, the scenario's stdout and stderr, and the init's
//!   [`Report`].
//! - The init writes its report (one [`Line`] per line, then [`Line::Done`]),
//!   and leaves through QEMU's isa-debug-exit device with
//!   [`DEBUG_EXIT_VALUE`], which makes QEMU exit with [`QEMU_EXIT_DONE`].
//!   Any other end is not the harness's.

use std::fmt;
use std::str::FromStr;

/// Printed on the console by the init once the base VM is up, before it
/// waits for its payload: the point where the host saves a snapshot.
pub const READY: &str = "nslab-init: ready for a payload";

/// Printed on the console by the init once it has its payload: the host's
/// sign that this run's VM works (booted, or restored).
pub const BOOTED: &str = "nslab-init: booted";

/// Printed on the console right before the scenario starts (the end of the
/// VM's overhead, for `cargo xtask bench --vm`).
pub const SCENARIO_STARTS: &str = "nslab-init: scenario starts";

/// The kernel modules of the base VM, in load order (each after those it
/// depends on): a virtio block device on the PCI bus, for the payload disk.
pub const BASE_MODULES: [&str; 6] = [
    "virtio",
    "virtio_ring",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
];

/// The payload disk's device in the guest.
pub const PAYLOAD_DEVICE: &str = "/dev/vda";

/// The files every run has, a newc cpio archive inside the base initramfs:
/// unpacked before [`READY`], so that a restored VM has them already and
/// its payload holds only what its run needs.
pub const COMMON_ARCHIVE: &str = "/common.cpio";

/// Where the archive starts on the payload disk; the header is before it.
pub const PAYLOAD_OFFSET: u64 = 4096;

/// The size of every payload disk (a sparse file on the host).
pub const PAYLOAD_DISK_BYTES: u64 = 256 << 20;

/// The I/O port of QEMU's isa-debug-exit device.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;
/// What the init writes to [`DEBUG_EXIT_PORT`] when it has reported.
pub const DEBUG_EXIT_VALUE: u8 = 0x31;
/// QEMU's exit status after [`DEBUG_EXIT_VALUE`]: `(value << 1) | 1`.
pub const QEMU_EXIT_DONE: i32 = ((DEBUG_EXIT_VALUE as i32) << 1) | 1;

/// The guest's serial ports, in QEMU's `-serial` order (ttyS0 first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// ttyS0: the kernel's console (and the shell of `cargo xtask shell`).
    Console,
    /// ttyS1: the scenario's standard output.
    Stdout,
    /// ttyS2: the scenario's standard error.
    Stderr,
    /// ttyS3: the init's [`Report`].
    Report,
}

impl Port {
    pub const ALL: [Port; 4] = [Port::Console, Port::Stdout, Port::Stderr, Port::Report];

    /// The port's device in the guest: `/dev/ttyS<n>`.
    pub fn device(self) -> String {
        format!("/dev/ttyS{}", self as usize)
    }

    /// The name of the file the host gives the port.
    pub fn name(self) -> &'static str {
        match self {
            Port::Console => "console",
            Port::Stdout => "stdout",
            Port::Stderr => "stderr",
            Port::Report => "report",
        }
    }
}

/// What the host asks of the init for one run, as `nslab.*` words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunArgs {
    /// Seconds the scenario may run (`nslab.timeout=`); 0 means no limit.
    pub timeout: u64,
    /// Kernel modules to load from /lib/modules/NAME.ko (`nslab.modules=`).
    pub modules: Vec<String>,
    /// An interactive shell on the console instead of the scenario
    /// (`nslab.mode=shell`).
    pub shell: bool,
}

const TIMEOUT: &str = "nslab.timeout";
const MODULES: &str = "nslab.modules";
const MODE: &str = "nslab.mode";
const SHELL: &str = "shell";

impl RunArgs {
    /// The words that say it.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![format!("{TIMEOUT}={}", self.timeout)];
        if !self.modules.is_empty() {
            args.push(format!("{MODULES}={}", self.modules.join(",")));
        }
        if self.shell {
            args.push(format!("{MODE}={SHELL}"));
        }
        args
    }

    /// Read them back from words separated by white space. A missing or
    /// unreadable timeout is `default_timeout`.
    pub fn parse(words: &str, default_timeout: u64) -> RunArgs {
        let arg = |key: &str| {
            words
                .split_whitespace()
                .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
        };
        RunArgs {
            timeout: arg(TIMEOUT)
                .and_then(|s| s.parse().ok())
                .unwrap_or(default_timeout),
            modules: arg(MODULES)
                .unwrap_or_default()
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
            shell: arg(MODE) == Some(SHELL),
        }
    }
}

/// The first line of a payload disk.
const PAYLOAD_MAGIC: &str = "nslab-payload/1";

/// The start of a payload disk: what the run is, and how long its archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadHeader {
    pub args: RunArgs,
    /// Random bytes from the host for the guest's entropy pool: every run
    /// restored from one snapshot starts with the same pool, this makes
    /// each one's different.
    pub seed: [u8; 32],
    /// The length of the cpio archive at [`PAYLOAD_OFFSET`].
    pub archive_len: u64,
}

impl PayloadHeader {
    /// The header as the disk's first [`PAYLOAD_OFFSET`] bytes: text lines,
    /// padded with zeros.
    pub fn to_block(&self) -> Vec<u8> {
        let seed: String = self.seed.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "{PAYLOAD_MAGIC}\n{}\nseed={seed}\narchive={}\n",
            self.args.to_args().join(" "),
            self.archive_len
        );
        let mut block = text.into_bytes();
        assert!(
            block.len() < PAYLOAD_OFFSET as usize,
            "payload header too long"
        );
        block.resize(PAYLOAD_OFFSET as usize, 0);
        block
    }

    /// The header at the start of `block`, or None when the disk holds no
    /// payload (yet).
    pub fn parse(block: &[u8]) -> Option<PayloadHeader> {
        let end = block.iter().position(|&b| b == 0).unwrap_or(block.len());
        let text = std::str::from_utf8(&block[..end]).ok()?;
        let mut lines = text.lines();
        if lines.next()? != PAYLOAD_MAGIC {
            return None;
        }
        let args = RunArgs::parse(lines.next()?, 30);
        let hex = lines.next()?.strip_prefix("seed=")?;
        let mut seed = [0u8; 32];
        if hex.len() != 64 {
            return None;
        }
        for (i, byte) in seed.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        let archive_len = lines.next()?.strip_prefix("archive=")?.parse().ok()?;
        Some(PayloadHeader {
            args,
            seed,
            archive_len,
        })
    }
}

/// How the scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// It exited with this status.
    Exit(i32),
    /// A signal killed it.
    Signal(i32),
    /// It ran past its timeout (seconds), and the init killed it.
    Timeout(u64),
}

impl End {
    pub fn success(self) -> bool {
        self == End::Exit(0)
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::Exit(code) => write!(f, "exit={code}"),
            End::Signal(sig) => write!(f, "signal={sig}"),
            End::Timeout(secs) => write!(f, "timeout={secs}"),
        }
    }
}

/// One line of the init's report.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// The PID of the scenario's shell: every PID it starts is at least this.
    ScenarioPid(u32),
    /// The guest's clock (seconds since its kernel started) when the
    /// scenario started and ended.
    UptimeStart(f64),
    UptimeEnd(f64),
    /// How the scenario ended.
    End(End),
    /// Something the scenario left behind (`what`: "process sem", "mount
    /// none /tmp/m tmpfs", "cgroup /box": a directory below the cgroup2
    /// root, by its path from there...), `count` times.
    Leak {
        what: String,
        count: usize,
    },
    /// The init itself failed: a harness error, never the student's.
    InitError(String),
    /// The last line: the report is complete.
    Done,
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::ScenarioPid(pid) => write!(f, "scenario-pid={pid}"),
            Line::UptimeStart(t) => write!(f, "uptime-start={t}"),
            Line::UptimeEnd(t) => write!(f, "uptime-end={t}"),
            Line::End(end) => write!(f, "{end}"),
            Line::Leak { what, count: 1 } => write!(f, "leak: {what}"),
            Line::Leak { what, count } => write!(f, "leak: {count} x {what}"),
            // One line, whatever the error said.
            Line::InitError(err) => write!(f, "init-error={}", err.replace('\n', " ")),
            Line::Done => write!(f, "end"),
        }
    }
}

/// A report line the host could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine(pub String);

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unreadable report line {:?}", self.0)
    }
}

impl std::error::Error for BadLine {}

impl FromStr for Line {
    type Err = BadLine;

    fn from_str(line: &str) -> Result<Line, BadLine> {
        let bad = || BadLine(line.to_string());
        fn num<T: FromStr>(s: &str, line: &str) -> Result<T, BadLine> {
            s.parse().map_err(|_| BadLine(line.to_string()))
        }
        if line == "end" {
            return Ok(Line::Done);
        }
        if let Some(leak) = line.strip_prefix("leak: ") {
            let (count, what) = match leak.split_once(" x ") {
                Some((n, what)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => {
                    (num(n, line)?, what)
                }
                _ => (1, leak),
            };
            return Ok(Line::Leak {
                what: what.to_string(),
                count,
            });
        }
        let (key, value) = line.split_once('=').ok_or_else(bad)?;
        Ok(match key {
            "scenario-pid" => Line::ScenarioPid(num(value, line)?),
            "uptime-start" => Line::UptimeStart(num(value, line)?),
            "uptime-end" => Line::UptimeEnd(num(value, line)?),
            "exit" => Line::End(End::Exit(num(value, line)?)),
            "signal" => Line::End(End::Signal(num(value, line)?)),
            "timeout" => Line::End(End::Timeout(num(value, line)?)),
            "init-error" => Line::InitError(value.to_string()),
            _ => return Err(bad()),
        })
    }
}

/// The init's whole report, as the host reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub lines: Vec<Line>,
}

impl Report {
    /// Parse the report port's text. Lines that do not parse are kept as
    /// errors of the init: they mean the port was garbled.
    pub fn parse(text: &str) -> Report {
        let lines = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.parse()
                    .unwrap_or_else(|e: BadLine| Line::InitError(e.to_string()))
            })
            .collect();
        Report { lines }
    }

    /// The report ends with [`Line::Done`]: the init finished it.
    pub fn complete(&self) -> bool {
        self.lines.last() == Some(&Line::Done)
    }

    pub fn end(&self) -> Option<End> {
        self.lines.iter().find_map(|l| match l {
            Line::End(end) => Some(*end),
            _ => None,
        })
    }

    pub fn scenario_pid(&self) -> Option<u32> {
        self.lines.iter().find_map(|l| match l {
            Line::ScenarioPid(pid) => Some(*pid),
            _ => None,
        })
    }

    /// Seconds from the guest kernel's start to the scenario's, and the
    /// scenario's own.
    pub fn guest_times(&self) -> Option<(f64, f64)> {
        let start = self.lines.iter().find_map(|l| match l {
            Line::UptimeStart(t) => Some(*t),
            _ => None,
        })?;
        let end = self.lines.iter().find_map(|l| match l {
            Line::UptimeEnd(t) => Some(*t),
            _ => None,
        })?;
        Some((start, end - start))
    }

    pub fn leaks(&self) -> impl Iterator<Item = (&str, usize)> {
        self.lines.iter().filter_map(|l| match l {
            Line::Leak { what, count } => Some((what.as_str(), *count)),
            _ => None,
        })
    }

    pub fn init_errors(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            Line::InitError(e) => Some(e.as_str()),
            _ => None,
        })
    }
}

/// Count equal items, keeping the order of their first appearance: the
/// init reports a thousand identical leaks as one line.
pub fn group<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Vec<(T, usize)> {
    let mut groups: Vec<(T, usize)> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|(seen, _)| *seen == item) {
            Some((_, n)) => *n += 1,
            None => groups.push((item, 1)),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_reads_back_as_written() {
        let lines = [
            Line::ScenarioPid(80),
            Line::UptimeStart(1.25),
            Line::UptimeEnd(2.5),
            Line::End(End::Exit(0)),
            Line::End(End::Signal(9)),
            Line::End(End::Timeout(20)),
            Line::Leak {
                what: "process sem".into(),
                count: 1,
            },
            Line::Leak {
                what: "process sem".into(),
                count: 1497,
            },
            Line::Leak {
                what: "cgroup /box".into(),
                count: 1,
            },
            Line::InitError("mount: EPERM".into()),
            Line::Done,
        ];
        for line in lines {
            assert_eq!(line.to_string().parse::<Line>(), Ok(line.clone()));
        }
    }

    #[test]
    fn a_garbled_report_is_an_init_error_and_incomplete() {
        let report = Report::parse("exit=0\nexi\u{fffd}=\n");
        assert_eq!(report.end(), Some(End::Exit(0)));
        assert_eq!(report.init_errors().count(), 1);
        assert!(!report.complete());
    }

    #[test]
    fn run_args_read_back() {
        let args = RunArgs {
            timeout: 7,
            modules: vec!["veth".into(), "dummy".into()],
            shell: true,
        };
        let words = format!("other words {}", args.to_args().join(" "));
        assert_eq!(RunArgs::parse(&words, 30), args);
        assert_eq!(RunArgs::parse("quiet", 30).timeout, 30);
    }

    #[test]
    fn a_payload_header_reads_back_and_a_blank_disk_has_none() {
        let header = PayloadHeader {
            args: RunArgs {
                timeout: 40,
                modules: vec!["veth".into()],
                shell: false,
            },
            seed: std::array::from_fn(|i| i as u8 * 7),
            archive_len: 12_345_678,
        };
        let block = header.to_block();
        assert_eq!(block.len() as u64, PAYLOAD_OFFSET);
        assert_eq!(PayloadHeader::parse(&block), Some(header));
        assert_eq!(PayloadHeader::parse(&[0; 4096]), None);
        assert_eq!(
            PayloadHeader::parse(b"nslab-payload/1\nnslab.timeout=1\nseed=zz\n"),
            None
        );
    }

    #[test]
    fn qemu_exit_status_follows_from_the_value() {
        assert_eq!(QEMU_EXIT_DONE, 99);
    }

    #[test]
    fn equal_items_are_grouped_in_order() {
        assert_eq!(group(["a", "b", "a", "a"]), vec![("a", 3), ("b", 1)]);
    }
}
