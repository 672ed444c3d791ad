# Shared by the bats files: the real registry and fixtures of registry.bash,
# bats-assert, and the tools under test first in PATH.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
source "$BATS_TEST_DIRNAME/registry.bash"

: "${RG_BIN:?tests/run sets RG_BIN to the directory of the tools}"
PATH=$RG_BIN:$PATH
export PATH

# The storage's v2 directory.
v2() {
	echo "$REG_DATA/docker/registry/v2"
}
