#!/usr/bin/env bash
# arm64-debs.sh DIR PKG... - downloads Debian's arm64 builds of PKG... into
# DIR (names without ":arm64"; "PKG=VERSION" works).  apt reads arm64
# package lists into a private state directory under DIR: the host's apt
# state and dpkg architectures stay untouched, and nothing is installed.
set -euo pipefail
dir=$1
shift
mkdir -p "$dir/.lists/partial" "$dir/.archives/partial"
opts=(-o "APT::Architecture=arm64" -o "APT::Architectures::=arm64"
	-o "Dir::State::Lists=$dir/.lists" -o "Dir::Cache::Archives=$dir/.archives"
	-o "Dir::State::status=/dev/null" -o "Debug::NoLocking=1")
[ "$(id -u)" != 0 ] || opts+=(-o "APT::Sandbox::User=root")
[ -n "$(ls "$dir/.lists" 2>/dev/null | grep -v partial)" ] || apt-get "${opts[@]}" -qq update >&2
(cd "$dir" && apt-get "${opts[@]}" -qq download "$@" >&2)
