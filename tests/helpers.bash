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

# the bytes of blob data in storage DIR
blob_bytes() {
	find "$1/docker/registry/v2/blobs" -name data -type f -printf '%s\n' |
		awk '{ n += $1 } END { print n + 0 }'
}

# every file with its size, mode and content digest, and every directory
tree_sum() {
	(cd "$1" && find . -printf '%y %p %s %m %T@\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum
}

# pulls REF...: skopeo pulls each whole (every platform, digests verified)
pulls() {
	local ref
	for ref in "$@"; do
		rm -rf "$BATS_TEST_TMPDIR/pull"
		skopeo copy -q --all --src-tls-verify=false "docker://$REG/$ref" \
			"oci:$BATS_TEST_TMPDIR/pull:x" || { echo "cannot pull $ref" >&2; return 1; }
	done
}

# the tags the registry lists, as repo:tag
listed() {
	local repo
	for repo in $(curl -fsS "http://$REG/v2/_catalog?n=1000" | jq -r '.repositories[]'); do
		curl -fsS "http://$REG/v2/$repo/tags/list" | jq -r '.name + ":" + (.tags // [])[]'
	done | LC_ALL=C sort
}

# issuer_start DIR EXPIRES: tests/token-issuer on a free port, for user
# alice with password "pw d", tokens lasting EXPIRES seconds, each request's
# scope logged in DIR/tokens.log (emptied); sets ISSUER_PID and ISSUER_AUTH
# (the registry's auth section: REG_AUTH=$ISSUER_AUTH registry_start ...).
issuer_start() {
	local dir=$1 expires=$2 port i
	[ -f "$dir/tok.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj /CN=rg-token -keyout "$dir/tok.key" -out "$dir/tok.crt" 2>/dev/null
	port=$((19000 + RANDOM % 1000))
	: > "$dir/tokens.log"
	"$BATS_TEST_DIRNAME/token-issuer" "$port" "$dir/tok.key" "$dir/tok.crt" rg-issuer \
		rg-test alice 'pw d' "$expires" "$dir/tokens.log" 3>&- &
	ISSUER_PID=$!
	for i in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.1
	done
	ISSUER_AUTH="{token: {realm: http://127.0.0.1:$port/token, service: rg-test, issuer: rg-issuer, rootcertbundle: $dir/tok.crt}}"
}

# mix_storage DIR: push_mix (its records in DIR) on a registry stopped
# afterwards; its storage left in DIR/data, for tests to serve copies of
mix_storage() {
	registry_start "$1/reg"
	push_mix "$1"
	registry_stop
	mv "$REG_DATA" "$1/data"
}

# mix_copy: a copy of mix_storage's storage for one test, in
# $BATS_TEST_TMPDIR/reg/data (R: $BATS_TEST_TMPDIR/reg, for registry_start)
mix_copy() {
	R=$BATS_TEST_TMPDIR/reg
	mkdir -p "$R"
	cp -a "$BATS_FILE_TMPDIR/data" "$R/data"
}

# redis_start: a throwaway redis-server on a free port; sets REDIS_PORT
# and REDIS_PID (teardown kills it)
redis_start() {
	REDIS_PORT=$((16000 + RANDOM % 3000))
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no 3>&- >/dev/null &
	REDIS_PID=$!
	for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

# proxy_start UPSTREAM PLAN LOG [DENY]: tests/flaky-proxy on a free port,
# once it answers and has logged that answer (S3=1 in the environment: before an S3 server); sets
# PROXY (127.0.0.1:port) and PROXY_PID
proxy_start() {
	local port=$((19000 + RANDOM % 1000)) probe=/v2/
	[ "${S3:-}" != 1 ] || probe=/
	"$BATS_TEST_DIRNAME/flaky-proxy" "$port" "$@" 3>&- &
	PROXY_PID=$!
	PROXY=127.0.0.1:$port
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://$PROXY$probe" && break
		sleep 0.1
	done
	# the probe's line is logged after its answer: wait for it, so that
	# a test emptying the log afterwards sees only its own requests
	for _ in $(seq 50); do
		[ -s "$3" ] && break
		sleep 0.05
	done
}
