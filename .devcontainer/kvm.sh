#!/usr/bin/env bash
# The dev container's /dev/kvm, when the machine that runs it has KVM: the
# container may use the device (devcontainer.json's runArgs allow char
# 10:232), and this makes its node. Where the machine has none (Docker
# Desktop on macOS or Windows, most Codespaces) the node cannot be opened
# and is removed: the VMs run under software emulation (TCG), slower, with
# the same verdicts.
set -u
if [ ! -e /dev/kvm ]; then
    sudo mknod -m 0666 /dev/kvm c 10 232 2>/dev/null || true
fi
if [ -e /dev/kvm ] && ! (exec 3<>/dev/kvm) 2>/dev/null; then
    sudo rm -f /dev/kvm
fi
if [ -e /dev/kvm ]; then
    echo "nslab: /dev/kvm works here: the VMs run under KVM"
else
    echo "nslab: no KVM here: the VMs run under software emulation (TCG), a few seconds each"
fi
