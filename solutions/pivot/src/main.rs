//! `pivotcontainer [--rootfs DIR] [--hostname NAME] [CMD ARGS…]`: run CMD
//! (default /bin/sh) as PID 1 of a container whose root is DIR (default
//! ./rootfs), made the root mount with pivot_root(2). See the library for
//! each stage.

use container::{Options, clone_container, namespaces, wait_container};
use pivot::child_main;

fn main() -> std::process::ExitCode {
    nslab::main(|| {
        let options = Options::parse()?;
        options.check()?;
        let child = clone_container(namespaces(), Box::new(|| child_main(&options)))?;
        wait_container(child)
    })
}
