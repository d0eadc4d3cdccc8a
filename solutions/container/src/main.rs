//! `container [--rootfs DIR] [--hostname NAME] [CMD ARGS…]`: run CMD
//! (default /bin/sh) as PID 1 of a container rooted at DIR (default
//! ./rootfs). See the library for each stage.

use container::{Options, child_main, clone_container, namespaces, wait_container};

fn main() -> std::process::ExitCode {
    nslab::main(|| {
        let options = Options::parse()?;
        options.check()?;
        let child = clone_container(namespaces(), Box::new(|| child_main(&options)))?;
        wait_container(child)
    })
}
