#!/usr/bin/env bash
# Gradescope's setup: run once as root when the autograder's image is
# built, with this course (the autograder zip: see
# book/src/instructors.md) in $AUTOGRADER/source. It puts in what the
# grading needs, Rust and the Debian 12 packages the VM is made of, then
# grades the untouched course once, so that the image holds the VM's
# tools and every build a student's grading reuses.
# tests/tests/workflows.rs runs it on a machine that has what it installs.
set -euo pipefail
AUTOGRADER=${AUTOGRADER:-/autograder}
cd "$AUTOGRADER/source"

# Rust, where the machine has none (Gradescope's images are Ubuntu).
if ! command -v cargo >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
    echo "== installing Rust (rustup, stable, minimal profile)"
    apt-get update -qq
    apt-get install -y -qq curl ca-certificates build-essential git python3 >/dev/null
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
export PATH="$HOME/.cargo/bin:$PATH"

# The VM boots Debian 12's kernel with Debian 12's busybox and QEMU, which
# xtask fetches with apt-get download. On Ubuntu, apt learns of Debian 12
# at the lowest priority: nothing is installed from it, and the packages
# Ubuntu has not (linux-image-amd64) come from it.
if ! grep -q '^ID=debian' /etc/os-release; then
    echo "== adding Debian 12's package lists (priority 1: nothing installed from them)"
    apt-get install -y -qq debian-archive-keyring >/dev/null
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
        > /etc/apt/sources.list.d/nslab-debian-bookworm.list
    printf 'Package: *\nPin: release n=bookworm\nPin-Priority: 1\n' \
        > /etc/apt/preferences.d/nslab-debian-bookworm
    apt-get update -qq
fi

# The untouched exercises fail (exit 1): that is expected. Exit 2 is a
# check that could not run, which would fail every student: stop here.
echo "== grading the untouched course once: the VM's tools and the builds"
status=0
cargo xtask check --exercises --format json > /dev/null || status=$?
if [ "$status" -gt 1 ]; then
    echo "setup: cargo xtask check could not run (exit $status): see above" >&2
    exit "$status"
fi
echo "== ready"
