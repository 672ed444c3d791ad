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
