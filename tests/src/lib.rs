//! nslab's tests live in `tests/`: `cli.rs` runs the steps' programs on the
//! host for what needs no VM (usage, bad arguments, exit codes); `vm.rs`
//! runs every step's scenario in a fresh VM and compares it with its
//! snapshot in `snapshots/`.
