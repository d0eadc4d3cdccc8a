//! Step 11 — `overlaycontainer [--image DIR] [--layer DIR] [--keep-layer]
//! [--hostname NAME] [CMD ARGS…]`: the container of step 10 on a layered
//! root, as every container runtime makes it.
//!
//! The container's root is no longer the root filesystem itself, which every
//! container would share and change: it is an overlay (overlayfs) of two
//! directories, the image, read-only (`lowerdir`), and a layer of the
//! container's own, where its writes go (`upperdir`). The overlay's merged
//! view is a mount: the child pivots into it as step 10 pivots into its bind
//! mount.
//!
//! 1. The parent makes the container's layer, a directory with `upper` (the
//!    container's changes), `work` (the overlay's scratch space, on the same
//!    filesystem as `upper`) and `merged` (the mount point); a layer kept by
//!    `--keep-layer` is used again as it is.
//! 2. The child, in its new mount namespace, makes its mounts private, mounts
//!    the overlay on `merged`, pivots into it, unmounts the old root and
//!    mounts its /proc. The child mounts, not the parent: the overlay then
//!    lives and dies with the container's mount namespace, and nothing of it
//!    is ever in the host's mount table, even if the container is killed.
//! 3. When the container has ended, the parent removes the layer, or, with
//!    `--keep-layer`, says where it is: its `upper` directory holds exactly
//!    what the container changed (as `docker diff` shows).
//!
//! The image is never written: two containers of one image each see their
//! own changes only.

use container::{clone_container, exec, namespaces, wait_container};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::unistd::{chdir, pivot_root, sethostname};
use nslab::{Error, Result, program_name, shown};
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the old root goes, inside the new one, until it is unmounted.
const OLD_ROOT: &str = ".oldroot";

fn main() -> std::process::ExitCode {
    nslab::main(|| {
        let options = Options::parse()?.checked()?;
        let layer = Layer::at(options.layer.clone())?;
        layer.make()?;
        let ended = run_container(&options, &layer);

        // ANCHOR: remove
        // TODO: the container has ended, and with its mount namespace the
        // overlay. Remove the layer (layer.remove()?, which removes upper,
        // work, merged and the layer's directory), unless options.keep_layer
        // (--keep-layer): then print where it is kept instead,
        // println!("{}: the layer is kept in {}", program_name(),
        // shown(layer.dir.as_os_str())).
        // @solution
        if options.keep_layer {
            println!(
                "{}: the layer is kept in {}",
                program_name(),
                shown(layer.dir.as_os_str())
            );
        } else {
            layer.remove()?;
        }
        // @exercise
        // let _ = &layer; // TODO: remove the layer, or say where it is kept
        // @end
        // ANCHOR_END: remove
        ended
    })
}

/// Clone the container's init into its namespaces, and wait for it.
fn run_container(options: &Options, layer: &Layer) -> Result<u8> {
    // ANCHOR: run
    // TODO: clone the container's init, as in step 10:
    // clone_container(namespaces(), Box::new(|| child_main(options, layer)))?,
    // then wait_container(child). Nothing else here: the parent made the
    // layer's directories, which outlive the container; the overlay is the
    // child's, mounted in its own mount namespace (setup() calls
    // mount_overlay()), which takes the overlay away when the container
    // ends. Mounted here, in the parent's namespace, it would stay.
    // @solution
    let child = clone_container(namespaces(), Box::new(|| child_main(options, layer)))?;
    wait_container(child)
    // @exercise
    // let _ = (options, layer);
    // Err(Error::msg("TODO: clone the container and wait for it"))
    // @end
    // ANCHOR_END: run
}

/// The child's body: set up, exec; on failure print the line and exit 127.
/// Should the parent die first, the kernel kills the container's init.
fn child_main(options: &Options, layer: &Layer) -> isize {
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    let err = match setup(options, layer) {
        Ok(()) => exec(&options.command),
        Err(err) => err,
    };
    err.report();
    127
}

fn setup(options: &Options, layer: &Layer) -> Result<()> {
    sethostname(&options.hostname).map_err(|errno| Error::sys("sethostname()", errno))?;
    mount_overlay(options, layer)?;
    pivot_into(&layer.merged)?;
    // A proc of our PID namespace, as in step 7.
    nslab::mount_proc()
}

/// In the child: the overlay of the image and the layer, mounted on the
/// layer's `merged` directory.
fn mount_overlay(options: &Options, layer: &Layer) -> Result<()> {
    let merged = shown(layer.merged.as_os_str());
    // ANCHOR: mount
    // TODO: make every mount private (nslab::make_mounts_private(), as in
    // steps 7 and 10), so that the overlay stays in the container's mount
    // namespace. Then mount the overlay: mount(Some("overlay"),
    // &layer.merged, Some("overlay"), MsFlags::empty(), Some(data.as_str())),
    // where data is the overlay's options, one string:
    // format!("lowerdir={},upperdir={},workdir={}", options.image.display(),
    // layer.upper.display(), layer.work.display()). The image is the
    // lower, read-only layer; the container's writes go to the upper one.
    // Name the call in its error with its options, which the scenario shows:
    // Error::sys(format!("mount(overlay, {merged}, {data})"), errno).
    // @solution
    nslab::make_mounts_private()?;
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        options.image.display(),
        layer.upper.display(),
        layer.work.display()
    );
    mount(
        Some("overlay"),
        &layer.merged,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .map_err(|errno| Error::sys(format!("mount(overlay, {merged}, {data})"), errno))?;
    // @exercise
    // let _ = &merged;
    // return Err(Error::msg("TODO: mount the overlay"));
    // @end
    // ANCHOR_END: mount
    Ok(())
}

/// Step 10's pivot, into the overlay. The overlay is a mount already: no
/// bind mount is needed to make `new_root` one.
fn pivot_into(new_root: &Path) -> Result<()> {
    let root = shown(new_root.as_os_str());
    let put_old = new_root.join(OLD_ROOT);
    let shown_old = shown(put_old.as_os_str());
    // (The directory is made in the overlay, so in the layer's upper; it is
    // removed below, and leaves nothing there: the image has none.)
    std::fs::create_dir_all(&put_old)
        .map_err(|err| Error::io(format!("mkdir({shown_old})"), &err))?;
    pivot_root(new_root, &put_old).map_err(|errno| {
        let _ = std::fs::remove_dir(&put_old);
        Error::sys(format!("pivot_root({root}, {shown_old})"), errno)
    })?;
    chdir("/").map_err(|errno| Error::sys("chdir(/)", errno))?;
    let old_root = Path::new("/").join(OLD_ROOT);
    let shown_old = shown(old_root.as_os_str());
    umount2(&old_root, MntFlags::MNT_DETACH)
        .map_err(|errno| Error::sys(format!("umount2({shown_old})"), errno))?;
    std::fs::remove_dir(&old_root).map_err(|err| Error::io(format!("rmdir({shown_old})"), &err))
}

/// A container's layer: a directory with the overlay's upper and work
/// directories and the mount point of its merged view.
struct Layer {
    dir: PathBuf,
    upper: PathBuf,
    work: PathBuf,
    merged: PathBuf,
}

impl Layer {
    /// The layer in `dir`: where its three directories are.
    fn at(dir: PathBuf) -> Result<Layer> {
        // ANCHOR: layer
        // TODO: the layer's directories, all three in `dir` (dir.join):
        // "upper", where the container's changes go; "work", the overlay's
        // work directory, which must be on the same filesystem as upper
        // (overlayfs prepares a file there, then rename(2)s it into upper)
        // and not inside it; "merged", the mount point of the overlay.
        // Return Ok(Layer { upper, work, merged, dir }).
        // @solution
        Ok(Layer {
            upper: dir.join("upper"),
            work: dir.join("work"),
            merged: dir.join("merged"),
            dir,
        })
        // @exercise
        // Err(Error::msg("TODO: the layer's directories"))
        // @end
        // ANCHOR_END: layer
    }

    /// Make the layer's directories; a layer that exists (one kept by
    /// `--keep-layer`) is used as it is, once checked. Nothing is left of
    /// what this made if it fails.
    fn make(&self) -> Result<()> {
        if std::fs::symlink_metadata(&self.dir).is_ok() {
            return self.check_kept();
        }
        let mut made: Vec<&Path> = Vec::new();
        for dir in [&self.dir, &self.upper, &self.work, &self.merged] {
            if let Err(err) = std::fs::create_dir(dir) {
                for dir in made.iter().rev() {
                    let _ = std::fs::remove_dir(dir);
                }
                let call = format!("{}: mkdir({})", program_name(), shown(dir.as_os_str()));
                return Err(Error::io(call, &err));
            }
            made.push(dir);
        }
        Ok(())
    }

    /// A layer from an earlier run: its three directories, with upper and
    /// work on one filesystem (the kernel also refuses two mounts of one
    /// filesystem: the same mount, says fs/overlayfs/super.c).
    fn check_kept(&self) -> Result<()> {
        let dir = shown(self.dir.as_os_str());
        let kept = [&self.upper, &self.work, &self.merged]
            .map(|d| std::fs::metadata(d).ok().filter(|m| m.is_dir()));
        let [Some(upper), Some(work), Some(_)] = kept else {
            return Err(Error::msg(format!(
                "{}: {dir} exists and is not a layer (upper, work and merged directories)",
                program_name()
            )));
        };
        if upper.dev() != work.dev() {
            return Err(Error::msg(format!(
                "{}: the layer {dir} has its upper and work directories on different filesystems",
                program_name()
            )));
        }
        Ok(())
    }

    /// Remove the layer: the container's changes, the work directory, the
    /// (unmounted) mount point and the layer's directory.
    fn remove(&self) -> Result<()> {
        for dir in [&self.upper, &self.work] {
            let call = || format!("{}: rm -r {}", program_name(), shown(dir.as_os_str()));
            std::fs::remove_dir_all(dir).map_err(|err| Error::io(call(), &err))?;
        }
        for dir in [&self.merged, &self.dir] {
            let call = || format!("{}: rmdir({})", program_name(), shown(dir.as_os_str()));
            std::fs::remove_dir(dir).map_err(|err| Error::io(call(), &err))?;
        }
        Ok(())
    }
}

/// The command line.
#[derive(Debug)]
struct Options {
    /// The container's image, the overlay's read-only lower layer.
    image: PathBuf,
    /// The container's layer (default: NAME.layer, NAME its hostname).
    layer: PathBuf,
    keep_layer: bool,
    hostname: OsString,
    command: Vec<OsString>,
}

impl Options {
    fn parse() -> Result<Options> {
        Self::parse_from(std::env::args_os().skip(1))
    }

    fn parse_from(args: impl IntoIterator<Item = OsString>) -> Result<Options> {
        use lexopt::prelude::*;
        let usage = || {
            Error::msg(format!(
                "Usage: {} [--image DIR] [--layer DIR] [--keep-layer] [--hostname NAME] [CMD ARGS...]",
                program_name()
            ))
        };
        let bad = |err: lexopt::Error| Error::msg(format!("{}: {err}", program_name()));
        let mut options = Options {
            image: PathBuf::from("rootfs"),
            layer: PathBuf::new(),
            keep_layer: false,
            hostname: "container".into(),
            command: Vec::new(),
        };
        let mut parser = lexopt::Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(bad)? {
            match arg {
                Long("image") => options.image = parser.value().map_err(bad)?.into(),
                Long("layer") => options.layer = parser.value().map_err(bad)?.into(),
                Long("keep-layer") => options.keep_layer = true,
                Long("hostname") => options.hostname = parser.value().map_err(bad)?,
                Short('h') | Long("help") => return Err(usage()),
                Value(first) => {
                    options.command.push(first);
                    options.command.extend(parser.raw_args().map_err(bad)?);
                }
                other => return Err(bad(other.unexpected())),
            }
        }
        if options.command.is_empty() {
            options.command.push("/bin/sh".into());
        }
        if options.layer.as_os_str().is_empty() {
            // A '/' would make NAME.layer a path below a directory NAME
            // that nothing creates: ask for --layer instead.
            if options.hostname.as_encoded_bytes().contains(&b'/') {
                return Err(Error::msg(format!(
                    "{}: the hostname {} has a '/', so NAME.layer cannot be the layer's directory: give --layer DIR",
                    program_name(),
                    shown(&options.hostname)
                )));
            }
            let mut name = options.hostname.clone();
            name.push(".layer");
            options.layer = name.into();
        }
        Ok(options)
    }

    /// Check, before anything is made, the image (step 7's checks: a
    /// directory, holding the command) and the paths the overlay's options
    /// will name; make both paths absolute, as the mount table shows them.
    fn checked(mut self) -> Result<Options> {
        container::Options {
            rootfs: self.image.clone(),
            hostname: self.hostname.clone(),
            command: self.command.clone(),
        }
        .check()?;
        for path in [&self.image, &self.layer] {
            // The overlay's options are one string: ',' separates them, ':'
            // the lower directories, and '\' escapes either.
            let fits = path.to_str().is_some_and(|p| !p.contains([',', ':', '\\']));
            if !fits {
                return Err(Error::msg(format!(
                    "{}: {} cannot be named in the overlay's options (',', ':', '\\' or not UTF-8)",
                    program_name(),
                    shown(path.as_os_str())
                )));
            }
        }
        for path in [&mut self.image, &mut self.layer] {
            *path = std::path::absolute(&*path).map_err(|err| {
                Error::io(
                    format!("{}: realpath({})", program_name(), shown(path.as_os_str())),
                    &err,
                )
            })?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse_from(args.iter().map(OsString::from))
    }

    #[test]
    fn a_hostname_with_a_slash_names_no_layer() {
        let err = parse(&["--hostname", "a/b", "true"]).unwrap_err();
        assert!(err.message().contains("has a '/'"), "{}", err.message());
        let o = parse(&["--hostname", "a/b", "--layer", "l", "true"]).unwrap();
        assert_eq!(o.layer, PathBuf::from("l"));
    }

    #[test]
    fn the_layer_is_named_after_the_container() {
        let o = parse(&["--hostname", "c1", "true"]).unwrap();
        assert_eq!(o.layer, PathBuf::from("c1.layer"));
        assert!(!o.keep_layer);
        let o = parse(&["--layer", "/l", "--keep-layer"]).unwrap();
        assert_eq!(o.layer, PathBuf::from("/l"));
        assert!(o.keep_layer);
        assert_eq!(o.command, ["/bin/sh"]);
    }

    #[test]
    fn bad_options_are_one_line() {
        let err = parse(&["--bogus"]).unwrap_err();
        assert!(err.message().contains("invalid option '--bogus'"));
        assert!(parse(&["--image"]).is_err());
    }
}
