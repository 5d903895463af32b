// Package packaging holds what ships Brine beyond its binaries: the
// Dockerfiles (FROM scratch), the systemd units and the shell completions,
// described in README.md. It has no Go code of its own; its tests run the
// shipped, static binaries the way those artefacts run them: cross-built
// under qemu-user, each daemon in an empty root, the units through
// systemd-analyze and the completions through bash.
package packaging
