# Last pull (issue 15, item 1): rg-pulls on what a real registry wrote
# while skopeo pulled from it: its app log (text and JSON), its access log,
# and the notification events examples/rg-pull-receiver appended.

# receiver_start FILE: the example receiver on a free port; sets RECV_PID
# and RECV (host:port)
receiver_start() {
	local port i
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 12000))
		"$BATS_TEST_DIRNAME/../examples/rg-pull-receiver" "127.0.0.1:$port" "$1" \
			2>"$1.log" 3>&- &
		RECV_PID=$!
		for i in $(seq 50); do
			grep -q listening "$1.log" 2>/dev/null && { RECV=127.0.0.1:$port; return 0; }
			kill -0 "$RECV_PID" 2>/dev/null || break
			sleep 0.1
		done
	done
	cat "$1.log" >&2
	return 1
}

# wait_events N: until the events file holds N manifest pulls
wait_events() {
	local i
	for i in $(seq 100); do
		[ "$(jq -c '.events[] | select(.action == "pull" and .request.method == "GET")' \
			"$EV" 2>/dev/null | grep -c /manifests/)" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "wait_events: fewer than $1 pulls in $EV" >&2
	return 1
}

# fetch REF: what skopeo pulls of REF (one platform of a multi-arch image)
fetch() {
	rm -rf "$BATS_FILE_TMPDIR/pull"
	skopeo copy -q --src-tls-verify=false "docker://$REG/$1" "oci:$BATS_FILE_TMPDIR/pull:x" >/dev/null
}

setup_file() {
	load helpers
	local L=$BATS_FILE_TMPDIR/layout D=$BATS_FILE_TMPDIR/reg
	export EV=$BATS_FILE_TMPDIR/events.jsonl
	receiver_start "$EV"
	echo "$RECV_PID" > "$BATS_FILE_TMPDIR/recv.pid"
	REG_LOG='{level: info, formatter: text}' \
	REG_NOTIFY="{endpoints: [{name: rg, url: 'http://$RECV/events', timeout: 2s, threshold: 5, backoff: 1s, ignore: {mediatypes: [application/octet-stream]}}]}" \
		registry_start "$D"
	mkimage "$L" used amd64 2020-01-01T00:00:00Z
	mkimage "$L" never amd64 2020-01-01T00:00:00Z
	mkimage "$L" scanned amd64 2020-01-01T00:00:00Z
	mkimage "$L" amd amd64 2022-01-01T00:00:00Z
	mkimage "$L" arm arm64 2022-01-02T00:00:00Z
	mkindex "$L" multi amd arm
	push "$L:used" app:used
	push "$L:never" app:never
	push "$L:scanned" app:scanned
	push --all "$L:multi" multi:1
	# pulls: used twice, the multi-arch image once by tag (its index and
	# the amd64 child), scanned only by a scanner; a HEAD and a failed GET
	fetch app:used
	local accept='Accept: application/vnd.oci.image.manifest.v1+json'
	curl -fsS -o /dev/null -H "$accept" -A 'Trivy/0.50.1' "http://$REG/v2/app/manifests/scanned"
	curl -fsS -o /dev/null -I -H "$accept" "http://$REG/v2/app/manifests/never"
	curl -s -o /dev/null "http://$REG/v2/app/manifests/nothere"
	fetch multi:1
	wait_events 4
	# rotated as logrotate's copytruncate and compress do, then one more pull
	cp "$D/registry.log" "$D/registry.log.1"
	: > "$D/registry.log"
	gzip "$D/registry.log.1"
	fetch app:used
	wait_events 5
	rg-scan "$REG_DATA" > "$BATS_FILE_TMPDIR/scan"
	cp "$D/registry.log" "$BATS_FILE_TMPDIR/registry.log"
	# the access log alone: the lines the app log's formatter did not write
	zcat "$D/registry.log.1.gz" | cat - "$D/registry.log" | grep -v '^time=' \
		> "$BATS_FILE_TMPDIR/access.log"
}

teardown_file() {
	load helpers
	registry_stop
	kill "$(cat "$BATS_FILE_TMPDIR/recv.pid")" 2>/dev/null || true
}

setup() {
	load helpers
	S=$BATS_FILE_TMPDIR/scan
	D=$BATS_FILE_TMPDIR/reg
}

# figures REF...: "tag pulls pulled?" of each tag record
figures() {
	jq -r 'select(.type == "tag") | "\(.repo):\(.tag) \(.pulls // "-") \(has("pulled"))"' | sort
}

expected='app:never - false
app:scanned 1 true
app:used 2 true
multi:1 1 true'

@test "rg-pulls: the app log, rotated and gzipped mid-way: GETs of manifests only" {
	run --separate-stderr rg-pulls "$D/registry.log.1.gz" "$D/registry.log" < "$S"
	assert_success
	assert_equal "$(figures <<<"$output")" "$expected"
	local out=$output
	# the index: one pull by tag (its amd64 child, fetched by digest, is
	# the same pull); the child's own record says it was fetched
	run bash -c "jq -c 'select(.repo == \"multi\" and .type == \"manifest\") | [.media_type, .platform.architecture, .pulls]' | sort" <<<"$output"
	assert_output '["application/vnd.oci.image.index.v1+json",null,1]
["application/vnd.oci.image.manifest.v1+json","amd64",1]
["application/vnd.oci.image.manifest.v1+json","arm64",null]'
	# last pull: the one after the rotation, in the current log
	local last
	last=$(grep -o 'time="[^"]*" level=info msg="response completed".*method=GET .*uri=/v2/app/manifests/used' "$D/registry.log" | tail -1 | cut -d'"' -f2 | cut -c1-19)
	assert_equal "$(jq -r 'select(.type == "tag" and .tag == "used") | .pulled' <<<"$out")" "${last}Z"
	# every other record as it came
	assert_equal "$(jq -c 'del(.pulled, .pulls, .pulls_since)' <<<"$out")" "$(jq -c . "$S")"
}

@test "rg-pulls: the scanner's pulls left out by user agent" {
	run --separate-stderr rg-pulls -v --exclude-agent '^Trivy/' "$D/registry.log.1.gz" "$D/registry.log" < "$S"
	assert_success
	assert_equal "$(figures <<<"$output" | grep scanned)" "app:scanned - false"
	[[ "$stderr" == *"registry.log.1.gz: "*", 1 left out"* ]]
}

@test "rg-pulls: notification events from the example receiver say the same" {
	run --separate-stderr rg-pulls "$EV" < "$S"
	assert_success
	assert_equal "$(figures <<<"$output")" "$expected"
	# the HEAD was an event too, not counted
	[ "$(jq -c '.events[] | select(.request.method == "HEAD")' "$EV" | wc -l)" -ge 1 ]
	# blob events were left out by the registry (the snippet's ignore)
	assert_equal "$(jq -c '.events[] | select(.target.mediaType == "application/octet-stream")' "$EV" | wc -l)" 0
}

@test "rg-pulls: the access log alone says the same" {
	grep -q '"GET /v2/app/manifests/used HTTP/1.1" 200' "$BATS_FILE_TMPDIR/access.log"
	run --separate-stderr rg-pulls "$BATS_FILE_TMPDIR/access.log" < "$S"
	assert_success
	assert_equal "$(figures <<<"$output")" "$expected"
}

@test "rg-pulls: the JSON formatter's log" {
	local D2=$BATS_TEST_TMPDIR/reg2 L=$BATS_FILE_TMPDIR/layout
	local REG_SAVE=$REG REG_PID_SAVE=$REG_PID REG_DATA_SAVE=$REG_DATA REG_CONFIG_SAVE=$REG_CONFIG
	REG_LOG='{level: info, formatter: json}' registry_start "$D2"
	push "$L:used" app:used
	push "$L:never" app:never
	fetch app:used
	sleep 0.2
	rg-scan "$REG_DATA" > "$BATS_TEST_TMPDIR/scan"
	registry_stop
	REG=$REG_SAVE REG_PID=$REG_PID_SAVE REG_DATA=$REG_DATA_SAVE REG_CONFIG=$REG_CONFIG_SAVE
	grep -q '"msg":"response completed"' "$D2/registry.log"
	run --separate-stderr rg-pulls "$D2/registry.log" < "$BATS_TEST_TMPDIR/scan"
	assert_success
	assert_equal "$(figures <<<"$output")" 'app:never - false
app:used 1 true'
}

@test "rg-pulls: a last-pull policy through the pipeline: the never-pulled image goes" {
	run --separate-stderr bash -c "rg-pulls '$EV' < '$S' | rg-select --where '!pulled' | rg-refs | rg-rm -n --min-age 0s"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm" and .object == "tag") | .tag' <<<"$output")" never
}

@test "rg-pulls: a history it cannot read is fatal, before any record" {
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/nothere" < "$S"
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "rg-pulls: $BATS_TEST_TMPDIR/nothere: No such file or directory"
	run --separate-stderr rg-pulls < "$S"
	assert_failure 2
	[[ "$stderr" == "rg-pulls: no pull history"* ]]
	# a gzip file cut short
	head -c 200 "$D/registry.log.1.gz" > "$BATS_TEST_TMPDIR/cut.gz"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/cut.gz" < "$S"
	assert_failure 2
	assert_output ''
	[[ "$stderr" == "rg-pulls: $BATS_TEST_TMPDIR/cut.gz: "* ]]
}

@test "rg-pulls: fields of an earlier run are replaced, not added to" {
	run --separate-stderr bash -c "rg-pulls '$EV' < '$S' | rg-pulls '$EV'"
	assert_success
	assert_equal "$(figures <<<"$output")" "$expected"
}

@test "rg-select --not-pulled-for: by the last pull, or for an image never pulled by its push and the history's start" {
	# the scan record says from when the history tells: its first request
	# (not the registry's first line, which says it starts)
	run --separate-stderr bash -c "rg-pulls '$D/registry.log.1.gz' '$D/registry.log' < '$S' | jq -r 'select(.type == \"scan\") | .pulls_since'"
	assert_output "$(zcat "$D/registry.log.1.gz" | grep -m1 'msg="response completed' | cut -d'"' -f2 | cut -c1-19)Z"
	run --separate-stderr bash -c "rg-pulls -A '^Trivy/' '$EV' < '$S' | rg-select -o --not-pulled-for 1h"
	assert_success
	# all pulled or pushed a moment ago
	assert_equal "$(jq -r 'select(.delete == true) | .tag' <<<"$output")" ""
	# as if used was last pulled in 2020 and scanned (its scanner's pulls
	# left out) pushed then: used goes; scanned too only when the history
	# goes back that far: a shorter one cannot tell it was not pulled
	local edit='if .tag == "used" then .pulled = "2020-01-01T00:00:00Z" elif .tag == "scanned" then .pushed = "2020-01-01T00:00:00Z" else . end'
	run --separate-stderr bash -c "rg-pulls -A '^Trivy/' '$EV' < '$S' | jq -c '$edit' | rg-select -o -P 30d"
	assert_success
	assert_equal "$(jq -r 'select(.delete == true) | .tag' <<<"$output")" used
	run --separate-stderr bash -c "rg-pulls -A '^Trivy/' '$EV' < '$S' |
		jq -c '$edit | if .type == \"scan\" then .pulls_since = \"2019-01-01T00:00:00Z\" else . end' |
		rg-select -o -v -P 30d"
	assert_success
	assert_equal "$(jq -r 'select(.delete == true) | .tag' <<<"$output" | sort)" "scanned
used"
	[[ "$stderr" == *"tag app:scanned marked: pushed 2020-01-01T00:00:00Z, not pulled since the pull history starts, over --not-pulled-for ago"* ]]
	# no pull history in the stream: refused before any mark
	run --separate-stderr rg-select -P 30d < "$S"
	assert_failure 2
	[[ "$stderr" == *": --not-pulled-for: the stream has no pull history: its scan record has no \"pulls_since\" (rg-pulls between rg-scan and rg-select adds it)" ]]
	run --separate-stderr rg-select -P 3x < "$S"
	assert_failure 2
	assert_equal "$stderr" "rg-select: --not-pulled-for: 3x: not a duration such as 90d, 12h, 2w"
}

@test "rg-pulls: a registry served below http.prefix (its log's paths so rewritten); a log without pulls is said" {
	zcat "$D/registry.log.1.gz" | cat - "$D/registry.log" |
		sed 's#uri=/v2/#uri=/reg/v2/#; s#uri="/v2/#uri="/reg/v2/#; s#"GET /v2/#"GET /reg/v2/#' > "$BATS_TEST_TMPDIR/prefixed.log"
	grep -q 'uri="/reg/v2/multi/manifests/sha256:' "$BATS_TEST_TMPDIR/prefixed.log"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/prefixed.log" < "$S"
	assert_success
	assert_equal "$(figures <<<"$output")" "$expected"
	# the log of pushes alone: request lines, no pull, and said
	zcat "$D/registry.log.1.gz" | grep -v 'GET' > "$BATS_TEST_TMPDIR/nopulls.log"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/nopulls.log" < "$S"
	assert_success
	assert_equal "$stderr" "rg-pulls: $BATS_TEST_TMPDIR/nopulls.log: request lines or events, but not one GET of a manifest in $(wc -l < "$BATS_TEST_TMPDIR/nopulls.log") lines"
}

@test "rg-pulls: the app log and the access log as the journal has them (journalctl's prefix before each line)" {
	zcat "$D/registry.log.1.gz" | cat - "$D/registry.log" |
		sed 's/^/Dec 03 17:59:06 host docker-registry[1234]: /' > "$BATS_TEST_TMPDIR/journal.log"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/journal.log" < "$S"
	assert_success
	assert_equal "$(figures <<<"$output")" "$expected"
	sed 's/^/Dec 03 17:59:06 host docker-registry[1234]: /' "$BATS_FILE_TMPDIR/access.log" \
		> "$BATS_TEST_TMPDIR/journal-access.log"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/journal-access.log" < "$S"
	assert_success
	assert_equal "$(figures <<<"$output")" "$expected"
}
