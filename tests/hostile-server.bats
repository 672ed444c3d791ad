# Servers that lie (tests/hostile-server): an S3 endpoint or a registry
# that asks for a token elsewhere, a Link that leads to another host or in
# a circle, a listing that never ends, an answer that trickles.  Whatever
# they say, credentials go only where the user sent them, and every run
# ends with a clear error.

setup() {
	load helpers
	H=$BATS_TEST_TMPDIR
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}

# hs PORT-VARIABLE LOG MODE [ARG...]: a hostile server on a free port
hs() {
	local var=$1 log=$2 port pid try i
	shift 2
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((12000 + RANDOM % 7000))	# below the ephemeral range
		"$BATS_TEST_DIRNAME/hostile-server" "$port" "$log" "$@" 3>&- 2>/dev/null &
		pid=$!
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break	# the port was taken
			if [ -s "$log" ] || curl -ks -o /dev/null "http://127.0.0.1:$port/" ||
				curl -ks -o /dev/null "https://127.0.0.1:$port/"; then
				PIDS+=("$pid")
				printf -v "$var" %s "$port"
				sleep 0.2
				: > "$log"	# the probes' lines
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
	done
	echo "hs: no hostile server could be started" >&2
	return 1
}

@test "an S3 endpoint that answers 401 with a Bearer realm gets no token request: the keys never leave the signature" {
	hs REALM "$H/realm.log" realm
	hs S3 "$H/s3.log" bearer "http://127.0.0.1:$REALM/token"
	run --separate-stderr env AWS_ACCESS_KEY_ID=AKID AWS_SECRET_ACCESS_KEY=the-secret-key \
		rg-scan -e "http://127.0.0.1:$S3" s3://bucket/root
	assert_failure 2
	[[ "$stderr" == *"HTTP 401"* ]]
	[ ! -s "$H/realm.log" ]
	# every request to the endpoint was signed, none sent Basic
	[ -s "$H/s3.log" ]
	! grep -q 'auth=Basic' "$H/s3.log"
	! grep -rq 'the-secret-key' "$H" 2>/dev/null
	[[ "$stderr$output" != *the-secret-key* ]]
	# rg-rm on a stream naming that bucket, likewise
	printf '%s\n' '{"type":"scan","source":"s3","root":"s3://bucket/root","time":"2026-01-01T00:00:00Z","format":1}' \
		'{"type":"scan-end","complete":true}' '{"type":"refs","plan":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}' > "$H/stream"
	run env AWS_ACCESS_KEY_ID=AKID AWS_SECRET_ACCESS_KEY=the-secret-key \
		rg-rm -e "http://127.0.0.1:$S3" < "$H/stream"
	[ ! -s "$H/realm.log" ]
	# and rg-restore of a run held there: a clear error, no token asked for
	run --separate-stderr env AWS_ACCESS_KEY_ID=AKID AWS_SECRET_ACCESS_KEY=the-secret-key \
		rg-restore -e "http://127.0.0.1:$S3" --run 0123456789abcdef0123456789abcdef -r s3://bucket/root
	assert_failure 2
	[[ "$stderr" == *"HTTP 401"* ]]
	[ ! -s "$H/realm.log" ]
	[[ "$stderr$output" != *the-secret-key* ]]
	! grep -q 'auth=Basic' "$H/s3.log"
}

@test "a Link to another host, by userinfo or by a suffix of the host name, is refused: the credentials stay home" {
	local target
	hs OTHER "$H/other.log" realm
	for target in "@127.0.0.1:$OTHER/v2/_catalog?n=1" ".localhost:$OTHER/v2/_catalog?n=1" \
		"//127.0.0.1:$OTHER/v2/_catalog?n=1" "http://127.0.0.1:$OTHER/v2/_catalog?n=1"; do
		hs REG1 "$H/reg.log" link "$target"
		run --separate-stderr rg-scan -u alice:pw "http://127.0.0.1:$REG1"
		assert_failure
		[[ "$stderr" == *"the registry sent us to another server"* ]]
		[ ! -s "$H/other.log" ]
		kill "${PIDS[-1]}"
	done
	# a path of its own is followed, once: the same page again ends the scan
	hs REG2 "$H/loop.log" link "/v2/_catalog?n=100"
	run --separate-stderr timeout 60 rg-scan "http://127.0.0.1:$REG2"
	assert_failure 2
	[[ "$stderr" == *"the next page is the same page"* ]]
	[ "$(grep -c '_catalog' "$H/loop.log")" -le 3 ]
}

@test "an S3 listing that names the same page again ends with an error, not a loop" {
	hs S3 "$H/s3.log" s3-loop
	run --separate-stderr timeout 60 env AWS_ACCESS_KEY_ID=AKID AWS_SECRET_ACCESS_KEY=sk \
		rg-scan -e "http://127.0.0.1:$S3" s3://bucket
	assert_failure
	[[ "$stderr" == *"the next page is the same page"* ]]
	[ "$(wc -l < "$H/s3.log")" -le 10 ]
	# rg-restore lists the quarantine's runs the same way: it ends too
	: > "$H/s3.log"
	run --separate-stderr timeout 60 env AWS_ACCESS_KEY_ID=AKID AWS_SECRET_ACCESS_KEY=sk \
		rg-restore -n -e "http://127.0.0.1:$S3" --run 0123456789abcdef0123456789abcdef -r s3://bucket
	assert_failure 2
	[[ "$stderr" == *"the next page is the same page"* ]]
	[ "$(wc -l < "$H/s3.log")" -le 10 ]
}

@test "a token realm over plain http for an https registry gets nothing, nor the client certificate" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$H/key.pem" -out "$H/cert.pem" 2>/dev/null
	hs REALM "$H/realm.log" realm
	hs REG "$H/reg.log" bearer "http://127.0.0.1:$REALM/token" --tls "$H/cert.pem" "$H/key.pem"
	run --separate-stderr rg-scan --cacert "$H/cert.pem" -u alice:pw "https://127.0.0.1:$REG"
	assert_failure 2
	[ -s "$H/reg.log" ]
	[ ! -s "$H/realm.log" ]
}

@test "an answer that trickles a byte a second is given up on" {
	hs REG "$H/reg.log" stall
	SECONDS=0
	run --separate-stderr timeout 300 rg-scan "http://127.0.0.1:$REG"
	assert_failure 2
	[ "$SECONDS" -lt 200 ]
	[[ "$stderr" == *"Timeout"* || "$stderr" == *"timed out"* || "$stderr" == *"too slow"* ]]
}

@test "a URL with a user name or password in it is refused before anything is sent or printed" {
	hs REG "$H/reg.log" realm
	run --separate-stderr rg-scan "http://alice:s3cret@127.0.0.1:$REG"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: a user name or password in the URL: give credentials with -u, RG_USER and RG_PASSWORD, or ~/.docker/config.json; the keys of S3 in the environment"
	[ -z "$output" ]
	run --separate-stderr env AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b \
		rg-scan -e "http://u:s3cret@127.0.0.1:$REG" s3://bucket
	assert_failure 2
	[[ "$stderr" == *"the endpoint: a user name or password in the URL"* ]]
	[[ "$stderr" != *s3cret* ]]
	# a stream naming such a root
	printf '%s\n' "{\"type\":\"scan\",\"source\":\"api\",\"root\":\"http://alice:s3cret@127.0.0.1:$REG\",\"time\":\"2026-01-01T00:00:00Z\",\"format\":1}" \
		'{"type":"repo","repo":"a"}' \
		'{"type":"tag","repo":"a","tag":"x","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","delete":true}' \
		'{"type":"scan-end","complete":true}' > "$H/stream"
	run --separate-stderr rg-rm -n --max-age 100000d < "$H/stream"
	assert_failure 2
	[[ "$stderr" != *s3cret* ]]
	[ ! -s "$H/reg.log" ]
}

@test "a password: wiped from the command line; read from a file or standard input instead" {
	hs REG "$H/reg.log" stall
	rg-scan -u alice:s3cret-pw "http://127.0.0.1:$REG" > /dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 50); do
		[ -s "$H/reg.log" ] && break
		sleep 0.1
	done
	tr '\0' ' ' < "/proc/$pid/cmdline" > "$H/cmdline"
	kill "$pid"
	grep -q 'alice:x' "$H/cmdline"
	! grep -q s3cret "$H/cmdline"
	# --password-stdin and --password-file, with -u or RG_USER
	hs BASIC "$H/basic.log" basic
	run --separate-stderr bash -c "printf 'pw from stdin\n' | rg-scan -u alice --password-stdin http://127.0.0.1:$BASIC"
	assert_success
	grep -q "auth=Basic $(printf 'alice:pw from stdin' | base64)" "$H/basic.log"
	printf 'pw from a file\n' > "$H/pw"
	run --separate-stderr env RG_USER=bob RG_PASSWORD=other rg-scan --password-file "$H/pw" "http://127.0.0.1:$BASIC"
	assert_success
	grep -q "auth=Basic $(printf 'bob:pw from a file' | base64)" "$H/basic.log"
	run --separate-stderr rg-scan --password-file "$H/pw" "http://127.0.0.1:$BASIC"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: --password-file: whose password: give the user with -u or RG_USER"
	: > "$H/empty"
	run --separate-stderr rg-scan -u alice --password-file "$H/empty" "http://127.0.0.1:$BASIC"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: $H/empty: no password in it"
}

@test "commands rg starts get no secret and no blocked signal: --stop and --start, credential helpers; a helper name with a / is refused" {
	local D=$BATS_TEST_TMPDIR/mix
	mkdir -p "$D"
	mix_storage "$D"
	sleep 1
	rg-scan "$D/data" | rg-select --untagged | rg-refs 2>/dev/null > "$H/plan"
	run --separate-stderr env AWS_SECRET_ACCESS_KEY=the-aws-secret RG_PASSWORD=the-rg-password \
		AWS_SESSION_TOKEN=the-token rg-rm --min-age 0s --stop "env > '$H/stop.env'" \
		--start "env > '$H/start.env'; while read -r l; do case \$l in SigBlk*) echo \"\$l\";; esac; done < /proc/\$\$/status > '$H/start.blk'" < "$H/plan"
	assert_success
	grep -q '^PATH=' "$H/stop.env"
	grep -q '^PATH=' "$H/start.env"
	# and no signal held off (rg-rm holds INT, TERM, HUP in its window):
	# a registry --start starts stops on SIGTERM later.  (The shell's own
	# mask, read by its builtins: read while it waits for a child, such as
	# grep, it may show what the shell blocks around its wait.)
	grep -q '^SigBlk:[[:space:]]*0*$' "$H/start.blk"
	! grep -q -e the-aws-secret -e the-rg-password -e the-token "$H/stop.env" "$H/start.env"
	# a credential helper: the server on its stdin, no secret in its environment
	mkdir -p "$H/bin" "$H/docker"
	printf '#!/bin/sh\nenv > "%s/helper.env"\ncat > /dev/null\necho "{\\"Username\\":\\"u\\",\\"Secret\\":\\"s\\"}"\n' "$H" > "$H/bin/docker-credential-rgtest"
	chmod +x "$H/bin/docker-credential-rgtest"
	hs BASIC "$H/basic.log" basic
	echo '{"credsStore": "rgtest"}' > "$H/docker/config.json"
	run --separate-stderr env PATH="$H/bin:$PATH" DOCKER_CONFIG="$H/docker" \
		AWS_SECRET_ACCESS_KEY=the-aws-secret rg-scan "http://127.0.0.1:$BASIC"
	assert_success
	grep -q '^PATH=' "$H/helper.env"
	! grep -q the-aws-secret "$H/helper.env"
	grep -q "auth=Basic $(printf 'u:s' | base64)" "$H/basic.log"
	echo '{"credsStore": "../../../tmp/evil"}' > "$H/docker/config.json"
	run --separate-stderr env DOCKER_CONFIG="$H/docker" rg-scan "http://127.0.0.1:$BASIC"
	[[ "$stderr" == *'credential helper "../../../tmp/evil": not a helper'"'"'s name'* ]]
}

@test "a password goes over plain http only to this machine's loopback names, or with --plain-http" {
	hs BASIC "$H/basic.log" basic
	# 2130706433 is 127.0.0.1 written as a number: not a name of this
	# machine to rg, so it stands for a host across the network
	run --separate-stderr rg-scan -u alice:pw "http://2130706433:$BASIC"
	assert_failure 2
	[[ "$stderr" == *"a password is not sent over plain http to another host: https, or --plain-http to say so"* ]]
	! grep -q 'auth=Basic' "$H/basic.log"
	run --separate-stderr env RG_USER=alice RG_PASSWORD=pw rg-scan "http://2130706433:$BASIC"
	assert_failure 2
	! grep -q 'auth=Basic' "$H/basic.log"
	run --separate-stderr rg-scan --plain-http -u alice:pw "http://2130706433:$BASIC"
	assert_success
	grep -q "auth=Basic $(printf 'alice:pw' | base64)" "$H/basic.log"
	: > "$H/basic.log"
	run --separate-stderr rg-scan -u alice:pw "http://127.0.0.1:$BASIC"
	assert_success
	grep -q 'auth=Basic' "$H/basic.log"
	# a stream naming such a registry: rg-rm asks the same
	: > "$H/basic.log"
	printf '%s\n' "{\"type\":\"scan\",\"source\":\"api\",\"root\":\"http://2130706433:$BASIC\",\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"format\":1}" \
		'{"type":"repo","repo":"a"}' \
		'{"type":"tag","repo":"a","tag":"x","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","delete":true}' \
		'{"type":"scan-end","complete":true}' > "$H/stream"
	run --separate-stderr env RG_USER=alice RG_PASSWORD=pw rg-rm < "$H/stream"
	assert_failure
	! grep -q 'auth=Basic' "$H/basic.log"
}
