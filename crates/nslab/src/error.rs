//! Errors in the article's style, and a `main` that prints them.
//!
//! A failed system call is reported as the call, the C library's text for
//! errno in quotes, and errno in parentheses:
//!
//! ```text
//! semget(): 'File exists' (17)
//! ```
//!
//! The article's programs also print `ERROR@main#30:`, the C function and
//! source line. A line number of a C file means nothing in our Rust code, so
//! we print the rest of the line only.

use nix::errno::Errno;
use std::process::ExitCode;

/// A failure that ends the program: the line to print and the exit code.
#[derive(Debug)]
pub struct Error {
    message: String,
    code: u8,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A failed call: `call: 'strerror text' (errno)`, exit code 1.
    pub fn sys(call: impl std::fmt::Display, errno: Errno) -> Error {
        Error {
            message: format!("{call}: '{}' ({})", errno.desc(), errno as i32),
            code: 1,
        }
    }

    /// A failed call that set errno, read just after the call.
    pub fn last(call: impl std::fmt::Display) -> Error {
        Error::sys(call, Errno::last())
    }

    /// A failed `std` I/O call, reported like a system call.
    pub fn io(call: impl std::fmt::Display, err: &std::io::Error) -> Error {
        match err.raw_os_error() {
            Some(errno) => Error::sys(call, Errno::from_raw(errno)),
            None => Error::msg(format!("{call}: {err}")),
        }
    }

    /// Any other message (bad arguments, usage), exit code 1.
    pub fn msg(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            code: 1,
        }
    }

    /// The same error with another exit code.
    pub fn with_code(mut self, code: u8) -> Error {
        self.code = code;
        self
    }

    /// The line printed on stderr.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// Print `PROGRAM: MESSAGE` on stderr, as a child reports why it stops
    /// before it exits, in one write(2): its parent may be writing a line
    /// at the same time. `eprintln!` writes each piece of its format apart
    /// (Rust's stderr is unbuffered), so that the two lines would
    /// interleave, mid-line. One write(2) of a line stays whole: a write of
    /// at most PIPE_BUF bytes to a pipe is atomic
    /// ([pipe(7)](https://man7.org/linux/man-pages/man7/pipe.7.html)), and a
    /// terminal's writer holds its `atomic_write_lock` for the whole write
    /// ([`do_tty_write`](https://elixir.bootlin.com/linux/v6.1/source/drivers/tty/tty_io.c)).
    pub fn report(&self) {
        eprint_line(format_args!("{}: {}", crate::program_name(), self.message));
    }
}

/// Print `line` and a newline on stderr in one write(2).
fn eprint_line(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// Run a step's program: its exit code on success, or its error line on
/// stderr and the error's exit code. Every step's `main` is just this.
pub fn main(run: impl FnOnce() -> Result<u8>) -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprint_line(&err.message);
            ExitCode::from(err.code)
        }
    }
}

/// `program's status: S (0xS)`: the raw wait status, as the article prints it
/// (`exit 3` is `768 (0x300)`; a death by SIGKILL is `9 (0x9)`).
pub fn status_line(status: nix::sys::wait::WaitStatus) -> String {
    use nix::sys::wait::WaitStatus;
    let raw = match status {
        WaitStatus::Exited(_, code) => (code & 0xff) << 8,
        WaitStatus::Signaled(_, sig, core) => sig as i32 | if core { 0x80 } else { 0 },
        WaitStatus::Stopped(_, sig) => ((sig as i32) << 8) | 0x7f,
        _ => 0,
    };
    format!("program's status: {raw} (0x{raw:x})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use nix::sys::wait::WaitStatus;
    use nix::unistd::Pid;

    #[test]
    fn sys_errors_read_like_the_article() {
        let err = Error::sys("semget()", Errno::EEXIST);
        assert_eq!(err.message(), "semget(): 'File exists' (17)");
        assert_eq!(err.code(), 1);
    }

    #[test]
    fn status_lines_show_the_raw_wait_status() {
        let pid = Pid::from_raw(7);
        assert_eq!(
            status_line(WaitStatus::Exited(pid, 3)),
            "program's status: 768 (0x300)"
        );
        assert_eq!(
            status_line(WaitStatus::Exited(pid, 0)),
            "program's status: 0 (0x0)"
        );
        assert_eq!(
            status_line(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            "program's status: 9 (0x9)"
        );
    }
}
