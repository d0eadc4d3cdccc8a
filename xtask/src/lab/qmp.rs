//! QEMU's monitor (QMP): one JSON object per line each way, over a Unix
//! socket or over QEMU's stdin and stdout.
//!
//! Wiring: imports nothing of the lab; [`super::snapshot`] saves and
//! restores VMs through it.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A QMP connection: one JSON object per line each way.
pub struct Monitor {
    reader: Box<dyn BufRead + Send>,
    writer: Box<dyn Write + Send>,
}

impl Monitor {
    /// The monitor on the Unix socket `path`.
    pub fn connect(path: &Path) -> Result<Monitor> {
        let stream = UnixStream::connect(path)
            .with_context(|| format!("connecting to QEMU's monitor at {}", path.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Monitor::over(BufReader::new(stream.try_clone()?), stream)
    }

    /// The monitor on these streams: its greeting read, commands enabled.
    pub fn over(
        reader: impl BufRead + Send + 'static,
        writer: impl Write + Send + 'static,
    ) -> Result<Monitor> {
        let mut monitor = Monitor {
            reader: Box::new(reader),
            writer: Box::new(writer),
        };
        let greeting = monitor.read()?;
        anyhow::ensure!(
            greeting.get("QMP").is_some(),
            "not a QMP greeting: {greeting}"
        );
        monitor.execute("qmp_capabilities", json!({}))?;
        Ok(monitor)
    }

    fn read(&mut self) -> Result<Value> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .context("reading QEMU's monitor")?;
        anyhow::ensure!(n > 0, "QEMU's monitor closed");
        serde_json::from_str(&line).with_context(|| format!("QEMU's monitor said: {line}"))
    }

    /// Run a command; its `return` value. Events on the way are skipped.
    pub fn execute(&mut self, command: &str, arguments: Value) -> Result<Value> {
        let request = json!({ "execute": command, "arguments": arguments });
        writeln!(self.writer, "{request}").context("writing to QEMU's monitor")?;
        loop {
            let reply = self.read()?;
            if let Some(value) = reply.get("return") {
                return Ok(value.clone());
            }
            if let Some(error) = reply.get("error") {
                bail!("QEMU's monitor refused {command}: {error}");
            }
        }
    }
}
