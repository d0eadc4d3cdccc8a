//! What every nslab step shares: the table of namespace types, the parsing of
//! PIDs and namespace names, and error lines in the style of the article's
//! programs (`semget(): 'File exists' (17)`).
//!
//! Students never edit this crate: the exercises are about the kernel calls.

mod args;
mod error;
mod mounts;
mod ns;
mod run;

pub use args::{
    args, must_exist, no_arguments, parse_ns_list, parse_ns_name, parse_pid, parse_pid_and_types,
    program_name, shown,
};
pub use error::{Error, Result, main, status_line};
pub use mounts::{make_mounts_private, mount_proc, root_is_a_mount_point};
pub use ns::{Ns, NsOrder};
pub use run::run_and_report;
