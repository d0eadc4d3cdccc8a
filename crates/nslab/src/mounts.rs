//! Mount propagation, for the steps that make a new mount namespace.

use crate::{Error, Result};
use nix::mount::{MsFlags, mount};

/// Make every mount of our (new) mount namespace private.
///
/// A new mount namespace starts as a copy of its parent's, propagation
/// included: where `/` is a *shared* mount, as systemd makes it, a mount made
/// in the new namespace would appear in the old one too, and the other way
/// round. Remounting `/` and everything below it MS_PRIVATE cuts that link,
/// as util-linux's unshare(1) does by default.
pub fn make_mounts_private() -> Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|errno| Error::sys("mount(/, MS_REC|MS_PRIVATE)", errno))
}
