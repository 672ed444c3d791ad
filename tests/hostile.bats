# Hostile input (issue 14): each class the fuzzers and a reading of the
# code found, fixed at its cause, with a test of its own.  The saved
# fuzzing inputs (tests/fuzz/corpus) are replayed by make check too.

setup() {
	load helpers
	D=sha256:$(printf a | sha256sum | cut -d' ' -f1)
	E=sha256:$(printf b | sha256sum | cut -d' ' -f1)
}

# put_manifest REPO REF TYPE FILE: PUT FILE as a manifest; prints its digest
put_manifest() {
	curl -fsS -X PUT -H "Content-Type: $3" --data-binary "@$4" \
		"http://$REG/v2/$1/manifests/$2" >/dev/null
	echo "sha256:$(sha256sum < "$4" | cut -d' ' -f1)"
}

@test "hostile: --where nested thousands deep is refused naming the limit, also from a policy file" {
	for e in "$(printf '!%.0s' $(seq 5000))a" "$(printf '(%.0s' $(seq 5000))a" \
		"a$(printf ' && a%.0s' $(seq 300))"; do
		run --separate-stderr rg-select -w "$e" < /dev/null
		assert_failure 2
		[[ "$stderr" == *": nested deeper than 256 levels" ]]
	done
	printf '[deep]\nwhere = %sa\n' "$(printf '!%.0s' $(seq 5000))" > "$BATS_TEST_TMPDIR/policies"
	RG_CONFIG=$BATS_TEST_TMPDIR/policies run --separate-stderr rg-select -p deep < /dev/null
	assert_failure 2
	[[ "$stderr" == *": nested deeper than 256 levels" ]]
	# 200 levels are fine: !!...!(size > 1) of an even count is itself
	run rg-select -o -w "$(printf '!%.0s' $(seq 200))(size > 1)" <<<'{"type":"tag","repo":"a","tag":"1","digest":"'$D'","size":2}'
	assert_success
	assert_equal "$(jq -c .delete <<<"$output")" true
}

@test "hostile: a tag record without a tag: rg-refs names its line, keeps its manifest, exit 1" {
	{
		echo '{"type":"scan","source":"storage","root":"/x","time":"2026-01-01T00:00:00Z","format":1}'
		echo '{"type":"manifest","repo":"a","digest":"'$D'","tags":["1"],"blobs":[],"manifests":[]}'
		echo '{"type":"tag","repo":"a","tag":"1","digest":"'$D'","delete":true}'
		echo '{"type":"tag","repo":"a","digest":"'$D'"}'
		echo '{"type":"tag","repo":"a","tag":7,"digest":"'$D'"}'
		echo '{"type":"scan-end","complete":true}'
	} > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr rg-refs < "$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_line --index 0 --partial '"type":"scan"'
	[[ "$stderr" == *"<stdin>:4: tag record without a valid tag: its manifest is kept"* ]]
	[[ "$stderr" == *"<stdin>:5: tag record without a valid tag: its manifest is kept"* ]]
	# the manifest stays; the marked tag "1" goes alone
	assert_equal "$(jq -c 'select(.type == "manifest") | .delete' <<<"$output")" null
	assert_equal "$(jq -c 'select(.tag == "1") | .delete' <<<"$output")" true
	run rg-select -t . < "$BATS_TEST_TMPDIR/in"
	assert_success
}

@test "hostile: durations of many digits are refused, never wrapped into the future" {
	for d in 99999999999999999999d 1000000000w1000000000w1000000000w; do
		run --separate-stderr rg-select --older-than "$d" < /dev/null
		assert_failure 2
		assert_equal "$stderr" "rg-select: --older-than: $d: longer than 10000 years"
		run --separate-stderr rg-rm --min-age "$d" < /dev/null
		assert_failure 2
	done
	# a tag created yesterday is not older than 10000 years
	run rg-select --older-than 520000w <<<'{"type":"tag","repo":"a","tag":"1","digest":"'$D'","created":"'"$(date -u -d yesterday +%Y-%m-%dT%H:%M:%SZ)"'"}'
	assert_success
	assert_equal "$(jq -c '.delete == true' <<<"$output")" false
}

@test "hostile: byte totals never wrap negative" {
	local i
	{
		echo '{"type":"scan","source":"storage","root":"/x","time":"2026-01-01T00:00:00Z","format":1}'
		for i in $(seq 200); do
			echo '{"type":"blob","digest":"sha256:'"$(printf %064x "$i")"'","size":9223372036854775807}'
		done
		echo '{"type":"scan-end","complete":true}'
	} > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr rg-refs < "$BATS_TEST_TMPDIR/in"
	assert_success
	[[ "$stderr" == *"200 blobs (9223372036854775807 bytes)"* ]]
	# --usage: one image holding all 200: its repository's sums saturate too
	{
		echo '{"type":"scan","source":"storage","root":"/x","time":"2026-01-01T00:00:00Z","format":1}'
		for i in $(seq 200); do
			echo '{"type":"blob","digest":"sha256:'"$(printf %064x "$i")"'","size":9223372036854775807}'
		done
		echo '{"type":"blob","digest":"'$D'","size":100}'
		echo '{"type":"tag","repo":"a","tag":"1","digest":"'$D'"}'
		printf '{"type":"manifest","repo":"a","digest":"%s","tags":["1"],"manifests":[],"blobs":[' "$D"
		for i in $(seq 200); do printf '%s"sha256:%064x"' "$([ "$i" = 1 ] || echo ,)" "$i"; done
		echo ']}'
		echo '{"type":"scan-end","complete":true}'
	} > "$BATS_TEST_TMPDIR/usage"
	run --separate-stderr rg-refs -u < "$BATS_TEST_TMPDIR/usage"
	assert_success
	# (read as text: jq would round these to doubles)
	assert_output --partial '"repo":"a","alone":9223372036854775807,"shared":0,"total":9223372036854775807'
}

@test "hostile: lines jansson refuses are refused by every path, with their line" {
	local n tool
	{
		echo '{"type":"tag","repo":"a","tag":"1","digest":"'$D'","type":"blob"}'
		printf '{"type":"tag","repo":"a\xff","tag":"1","digest":"%s"}\n' "$D"
		echo '{"type":"blob","digest":"'$D'","size":99999999999999999999}'
		echo '{"type":"tag","x":"\u0000"}'
		echo '{"type":"tag","x":"\ud800"}'
		printf '{"type":"blob","digest":"%s","size":12' "$D"
	} > "$BATS_TEST_TMPDIR/in"
	for n in 1 2 3 4 5 6; do
		for tool in "rg-select --keep 1" "rg-select -t ." rg-refs "rg-rm -n"; do
			run --separate-stderr $tool < <(echo '{"type":"repo","repo":"a"}'; sed -n "${n}p" "$BATS_TEST_TMPDIR/in")
			[ "$status" -ne 0 ] || { echo "$tool took line $n"; false; }
			[[ "$stderr" == "${tool%% *}: <stdin>:2: "* ]] || { echo "$tool: line $n: $stderr"; false; }
		done
	done
}

@test "hostile: a size written as a real reads as 0 on both record paths" {
	{
		echo '{"type":"scan","source":"storage","root":"/x","time":"2026-01-01T00:00:00Z","format":1}'
		echo '{"type":"blob","digest":"'$D'","size":1.5e3}'
		echo '{"type":"blob","digest":"'$E'","size":1.5e3,"n\u0061me":"escaped: parsed"}'
		echo '{"type":"scan-end","complete":true}'
	} > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr rg-refs < "$BATS_TEST_TMPDIR/in"
	assert_success
	[[ "$stderr" == *"2 blobs (0 bytes)"* ]]
}

@test "hostile: indexes nested 10 deep, each listing the 10 below, scan once each; years before 1000" {
	registry_start "$BATS_TEST_TMPDIR/reg"
	local t=$BATS_TEST_TMPDIR level i below=() here=() f cfg layer m
	for i in $(seq 10); do
		if [ "$i" = 1 ]; then created=0001-01-01T00:00:00Z; else created=2020-01-0${i:0:1}T00:00:00Z; fi
		[ "$i" = 10 ] && created=2020-02-01T00:00:00Z
		printf '{"created":"%s","os":"linux","architecture":"amd64","n":%d}' "$created" "$i" > "$t/config"
		printf 'layer %d\n' "$i" > "$t/layer"
		cfg=$(put_blob deep "$t/config")
		layer=$(put_blob deep "$t/layer")
		jq -cj -n --arg c "$cfg" --arg l "$layer" --argjson cs "$(stat -c %s "$t/config")" \
			--argjson ls "$(stat -c %s "$t/layer")" '{schemaVersion: 2,
			mediaType: "application/vnd.oci.image.manifest.v1+json",
			config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
			layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' > "$t/m"
		m=$(put_manifest deep "img$i" application/vnd.oci.image.manifest.v1+json "$t/m")
		below+=("$m:$(stat -c %s "$t/m")")
	done
	for level in $(seq 9 -1 1); do
		here=()
		for i in $(seq $([ "$level" = 1 ] && echo 1 || echo 10)); do
			printf '%s\n' "${below[@]}" | jq -R -s -c --arg n "$level.$i" '{schemaVersion: 2,
				mediaType: "application/vnd.oci.image.index.v1+json",
				annotations: {n: $n},
				manifests: [split("\n")[] | select(. != "") | split(":") |
					{mediaType: (if $n | startswith("9.") then
						"application/vnd.oci.image.manifest.v1+json" else
						"application/vnd.oci.image.index.v1+json" end),
					digest: (.[0] + ":" + .[1]), size: (.[2] | tonumber)}]}' |
				tr -d '\n' > "$t/i"
			m=$(put_manifest deep "l$level-$i" application/vnd.oci.image.index.v1+json "$t/i")
			here+=("$m:$(stat -c %s "$t/i")")
		done
		below=("${here[@]}")
	done
	registry_stop
	# (before: 10^8 paths walked, minutes; a guard, not a timing)
	run --separate-stderr timeout 120 rg-scan "$REG_DATA"
	assert_success
	assert_equal "$(jq -c 'select(.type == "manifest")' <<<"$output" | wc -l)" 91
	# the top index holds every image once: 10 manifests, configs and layers, 80 indexes, itself
	top=$(jq -r 'select(.type == "tag" and .tag == "l1-1") | .size' <<<"$output")
	want=$(find "$REG_DATA/docker/registry/v2/blobs" -name data -printf '%s\n' | awk '{ n += $1 } END { print n }')
	assert_equal "$top" "$want"
	# created: the newest image's, through every level; Go's zero time kept
	assert_equal "$(jq -r 'select(.type == "tag" and .tag == "l1-1") | .created' <<<"$output")" 2020-02-01T00:00:00Z
	assert_equal "$(jq -r 'select(.type == "tag" and .tag == "img1") | .created' <<<"$output")" 0001-01-01T00:00:00Z
}

@test "hostile: a manifest of 25000 distinct layers, 3.8 MB (hand-made: a registry wants each blob)" {
	registry_start "$BATS_TEST_TMPDIR/reg"
	push_mix "$BATS_TEST_TMPDIR" >/dev/null
	registry_stop
	local v2=$REG_DATA/docker/registry/v2 m h c
	m=$BATS_TEST_TMPDIR/m
	c=$(printf '{}' | sha256sum | cut -d' ' -f1)	# an empty config
	mkdir -p "$v2/blobs/sha256/${c:0:2}/$c"
	printf '{}' > "$v2/blobs/sha256/${c:0:2}/$c/data"
	seq 25000 | awk -v c="sha256:$c" 'BEGIN { printf "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":2},\"layers\":[", c }
		{ printf "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%064x\",\"size\":%d}", (NR > 1 ? "," : ""), $1, $1 }
		END { printf "]}" }' > "$m"
	h=$(sha256sum < "$m" | cut -d' ' -f1)
	mkdir -p "$v2/blobs/sha256/${h:0:2}/$h" "$v2/repositories/wide/_manifests/revisions/sha256/$h" \
		"$v2/repositories/wide/_manifests/tags/x/current" "$v2/repositories/wide/_manifests/tags/x/index/sha256/$h"
	cp "$m" "$v2/blobs/sha256/${h:0:2}/$h/data"
	for l in revisions/sha256/$h tags/x/current tags/x/index/sha256/$h; do
		printf 'sha256:%s' "$h" > "$v2/repositories/wide/_manifests/$l/link"
	done
	run --separate-stderr timeout 120 rg-scan "$REG_DATA"
	assert_success
	assert_equal "$(jq -r 'select(.type == "manifest" and .repo == "wide") | .blobs | length' <<<"$output")" 25001
	# the sum of 1..25000, the config (2) and the manifest itself
	assert_equal "$(jq -r 'select(.type == "tag" and .repo == "wide") | .size' <<<"$output")" \
		$((25000 * 25001 / 2 + 2 + $(stat -c %s "$m")))
}

@test "hostile: pull history that is anything: long lines skipped and said, garbage is no pull, lookalikes are checked" {
	local rec='{"type":"tag","repo":"a","tag":"1","digest":"'$D'"}'
	local ok='time="2026-12-01T00:00:00Z" level=info msg="response completed" http.request.method=GET http.request.uri=/v2/a/manifests/1 http.response.status=200'
	{
		head -c 3000000 /dev/zero | tr '\0' x; echo
		echo "$ok"
		head -c 100000 /dev/urandom | tr -d '\n'; echo
		# names and references outside the grammar, a HEAD, a 404, a blob
		echo "${ok/\/v2\/a\//\/v2\/A\/}"
		echo "${ok/manifests\/1/manifests\/-bad}"
		echo "${ok/manifests\/1/manifests\/sha256:abc}"
		echo "${ok/method=GET/method=HEAD}"
		echo "${ok/status=200/status=404}"
		echo "${ok/manifests\/1/blobs\/$D}"
		# an envelope nested deep, one cut short, an event of a blob
		printf '{"events":%s1%s}\n' "$(printf '[%.0s' $(seq 5000))" "$(printf ']%.0s' $(seq 5000))"
		echo '{"events":[{"action":"pull","timestamp":"2026-12-02T00:00:00Z","target":{"repository":"a","tag":"1"'
		echo '{"events":[{"action":"pull","timestamp":"2026-12-02T00:00:00Z","request":{"method":"GET"},"target":{"repository":"a","digest":"'$D'","url":"http://r/v2/a/blobs/'$D'"}}]}'
		echo '127.0.0.1 - - [31/Foo/2026:00:00:00 +0000] "GET /v2/a/manifests/1 HTTP/1.1" 200 2 "" "x"'
	} > "$BATS_TEST_TMPDIR/log"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/log" <<<"$rec"
	assert_success
	assert_equal "$stderr" "rg-pulls: $BATS_TEST_TMPDIR/log: 1 lines longer than 1048576 bytes skipped
rg-pulls: both logs and notification events read: a pull in both is counted twice"
	assert_equal "$(jq -c '[.pulls, .pulled]' <<<"$output")" '[1,"2026-12-01T00:00:00Z"]'
	# binary garbage alone: no request, no event: the wrong file, fatal
	head -c 200000 /dev/urandom > "$BATS_TEST_TMPDIR/bin"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/bin" <<<"$rec"
	assert_failure 2
	assert_output ""
	[[ "$stderr" == "rg-pulls: $BATS_TEST_TMPDIR/bin: no request log line or notification event in "*" lines (is the log level info?)" ]]
	# an empty file: said, read as it is
	: > "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr rg-pulls "$BATS_TEST_TMPDIR/empty" <<<"$rec"
	assert_success
	assert_output "$rec"
	assert_equal "$stderr" "rg-pulls: $BATS_TEST_TMPDIR/empty: empty: no pull in it"
}

@test "hostile: --protect JSON nested deeper than 64 levels is refused; a 2000-character reference protects nothing" {
	printf '%s{}%s\n' "$(printf '{"a":%.0s' $(seq 100))" "$(printf '}%.0s' $(seq 100))" > "$BATS_TEST_TMPDIR/deep.json"
	run --separate-stderr rg-select --protect "$BATS_TEST_TMPDIR/deep.json" < /dev/null
	assert_failure 2
	assert_equal "$stderr" "rg-select: $BATS_TEST_TMPDIR/deep.json: nested deeper than 64 levels"
	printf '{"containers":[{"image":"%s"}]}\n' "$(printf 'a%.0s' $(seq 2000))" > "$BATS_TEST_TMPDIR/long.json"
	run --separate-stderr rg-select --protect "$BATS_TEST_TMPDIR/long.json" < /dev/null
	assert_failure 1
	[[ "$stderr" == *": not an image reference, protects nothing" ]]
}
