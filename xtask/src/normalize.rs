//! What varies between two runs of the same scenario, made stable, so that
//! a snapshot states only what the kernel guarantees.
//!
//! - Namespace inode numbers become ordinal tags by first appearance
//!   (`net:[4026532117]` → `net:[ns#1]`): the same namespace keeps the same
//!   tag, so "same" and "different" stay visible. The inode numbers of the
//!   initial ipc, uts, user, pid, cgroup and time namespaces are constants of
//!   the kernel (4026531834 to 4026531839) and are kept as they are.
//! - Global PIDs (at least the scenario shell's own PID) become `PID#n` in
//!   the places where our programs print a PID; in-namespace PIDs (1, 2...)
//!   are smaller and stay, since they are the point of the pid steps.
//! - The kernel release, MAC addresses, IPv6 link-local addresses,
//!   durations and `ls -l` dates become placeholders.
//! - A parent's `NAME: PID of child created by clone() is N` comes right
//!   after its command's `$` line, before what its child printed. The two
//!   processes write the same stdout with nothing to order them, as in the
//!   seeds' programs: on the VM's one CPU, a parent preempted between
//!   clone(2) and its write(2) lets the child print first (seen in 2 of 10
//!   full checks, from `container --hostname box /bin/hostname`). Each
//!   moves whole lines: stdout is line-buffered, one write(2) per line.

use regex::{Captures, Regex};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Inode numbers of the initial namespaces: fixed by the kernel
/// (PROC_*_INIT_INO in include/linux/proc_ns.h).
const FIXED_INODES: std::ops::RangeInclusive<u64> = 4026531834..=4026531839;

static INODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b40265\d{5}\b").unwrap());
/// Places where our programs and scenarios print a PID.
static PID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(Created process |PID of child created by clone\(\) is |/proc/|pid=|Process#|NSpid:\s+|NStgid:\s+|netns )(\d+)\b",
    )
    .unwrap()
});
/// The line a parent prints once clone(2) has returned (ns_child_exec's).
static CLONED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\S+: PID of child created by clone\(\) is \d+$").unwrap());
static KERNEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d+\.\d+\.\d+-\d+-(amd64|cloud-amd64)\b").unwrap());
static MAC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b").unwrap());
static LINK_LOCAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bfe80::[0-9a-f:]+(/\d+)?").unwrap());
/// `ls -l` dates: `Nov 22 22:40` (this year) or `Nov 22  2025`.
static LS_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +(\d{2}:\d{2}|\d{4})\b",
    )
    .unwrap()
});
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d+(\.\d+)?(/\d+(\.\d+)?)* ?(ms|µs|us)\b|\b\d+\.\d+ ?s\b").unwrap()
});

/// The text compared with the snapshot: the scenario's stdout, its stderr
/// if any, how it ended and what it leaked, with volatile values made
/// stable.
pub fn transcript(run: &crate::lab::Run) -> String {
    let report = &run.report;
    let first_pid = report.scenario_pid().map_or(u64::MAX, u64::from);
    let mut parts = Vec::new();
    if !run.stdout.trim().is_empty() {
        parts.push(run.stdout.trim().to_string());
    }
    if !run.stderr.trim().is_empty() {
        parts.push(format!("[stderr]\n{}", run.stderr.trim_end()));
    }
    if let Some(end) = report.end() {
        parts.push(format!("[scenario ended: {end}]"));
    }
    for (what, count) in report.leaks() {
        parts.push(format!("[{}]", leak(what, count)));
    }
    Normalizer::new(first_pid).apply(&parts.join("\n"))
}

/// What a run left behind, for a person: `leaked: process sem`, or
/// `leaked: 1,497 × process sem`.
pub fn leak(what: &str, count: usize) -> String {
    match count {
        1 => format!("leaked: {what}"),
        n => format!("leaked: {} × {what}", thousands(n)),
    }
}

/// 1497 → "1,497".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub struct Normalizer {
    /// The PID of the scenario's shell: every PID of ours is at least this.
    first_pid: u64,
}

impl Normalizer {
    pub fn new(first_pid: u64) -> Normalizer {
        Normalizer { first_pid }
    }

    pub fn apply(&self, text: &str) -> String {
        let text = parent_first(&text.replace("\r\n", "\n"));
        let mut inodes: HashMap<String, usize> = HashMap::new();
        let text = INODE.replace_all(&text, |caps: &Captures| {
            let inode = &caps[0];
            if inode.parse().is_ok_and(|n: u64| FIXED_INODES.contains(&n)) {
                return inode.to_string();
            }
            let next = inodes.len() + 1;
            format!("ns#{}", inodes.entry(inode.to_string()).or_insert(next))
        });
        let mut pids: HashMap<String, usize> = HashMap::new();
        let text = PID.replace_all(&text, |caps: &Captures| {
            let pid = &caps[2];
            if pid.parse().is_ok_and(|n: u64| n < self.first_pid) {
                return caps[0].to_string();
            }
            let next = pids.len() + 1;
            format!(
                "{}PID#{}",
                &caps[1],
                pids.entry(pid.to_string()).or_insert(next)
            )
        });
        let text = KERNEL.replace_all(&text, "[KERNEL]");
        let text = MAC.replace_all(&text, "[MAC]");
        let text = LINK_LOCAL.replace_all(&text, "[LL6]");
        let text = DURATION.replace_all(&text, "[TIME]");
        let text = LS_DATE.replace_all(&text, "[DATE]");
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        lines.join("\n").trim_end().to_string()
    }
}

/// Each parent's clone line moved up to just after its command's `$ ` line,
/// past the lines its child wrote first. Only past output lines: never past
/// a blank line, a `# ` note, another command or another clone line, so a
/// line with no command above it in its paragraph stays where it is.
fn parent_first(text: &str) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    for i in 0..lines.len() {
        if !CLONED.is_match(lines[i]) {
            continue;
        }
        let stop = lines[..i].iter().rposition(|line| {
            line.starts_with("$ ")
                || line.trim().is_empty()
                || line.starts_with("# ")
                || CLONED.is_match(line)
        });
        if let Some(command) = stop.filter(|&at| lines[at].starts_with("$ ")) {
            let line = lines.remove(i);
            lines.insert(command + 1, line);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_have_thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1497), "1,497");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn inodes_become_ordinals_and_fixed_ones_stay() {
        let n = Normalizer::new(70);
        let out = n.apply("net:[4026532117] uts:[4026531838] x 4026532117 4026532200");
        assert_eq!(out, "net:[ns#1] uts:[4026531838] x ns#1 ns#2");
    }

    #[test]
    fn only_global_pids_are_replaced() {
        let n = Normalizer::new(70);
        let out = n.apply(
            "Created process 83 in requested namespaces\n/proc/83/ns/pid /proc/1/ns/pid /proc/91/x",
        );
        assert_eq!(
            out,
            "Created process PID#1 in requested namespaces\n/proc/PID#1/ns/pid /proc/1/ns/pid /proc/PID#2/x"
        );
        // A thread group's ids are PIDs too: each level's, the VM's first.
        let out = n.apply("NStgid:\t83\t2\t1\nNSpid:\t83\t2\t1");
        assert_eq!(out, "NStgid:\tPID#1\t2\t1\nNSpid:\tPID#1\t2\t1");
    }

    #[test]
    fn a_parent_clone_line_comes_before_its_child_output() {
        let n = Normalizer::new(70);
        // The child printed first, then the parent (seen under load).
        let raced = "$ container --hostname box /bin/hostname\nbox\n\
                     container: PID of child created by clone() is 91\ncontainer: terminating";
        let ordered = "$ container --hostname box /bin/hostname\n\
                       container: PID of child created by clone() is PID#1\nbox\ncontainer: terminating";
        assert_eq!(n.apply(raced), ordered);
        assert_eq!(n.apply(ordered), ordered);
        // Past several lines of the child's, and only within its command.
        let raced = "$ a\nx\n$ container ls\nbin\ndev\n\
                     container: PID of child created by clone() is 91\netc";
        assert_eq!(
            n.apply(raced),
            "$ a\nx\n$ container ls\ncontainer: PID of child created by clone() is PID#1\nbin\ndev\netc"
        );
        // No command above it in its paragraph: it stays.
        let alone = "# note\nbox\ncontainer: PID of child created by clone() is 91";
        assert_eq!(
            n.apply(alone),
            "# note\nbox\ncontainer: PID of child created by clone() is PID#1"
        );
    }

    #[test]
    fn volatile_values_become_placeholders() {
        let n = Normalizer::new(70);
        let out = n.apply(
            "Linux 6.1.0-56-amd64\nlrwxrwxrwx 1 root root 0 Nov 22 22:40 uts\nlink/ether 5a:0b:11:22:33:44\r\ninet6 fe80::580b:11ff:fe22:3344/64\n64 bytes: seq=0 ttl=64 time=0.412 ms\nround-trip min/avg/max = 0.1/0.2/0.3 ms  \n\n",
        );
        assert_eq!(
            out,
            "Linux [KERNEL]\nlrwxrwxrwx 1 root root 0 [DATE] uts\nlink/ether [MAC]\ninet6 [LL6]\n64 bytes: seq=0 ttl=64 time=[TIME]\nround-trip min/avg/max = [TIME]"
        );
    }
}
