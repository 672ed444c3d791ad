# rg-refs on the scans of a real registry, against its own garbage collector.

setup_file() {
	load helpers
	registry_start "$BATS_FILE_TMPDIR/reg"
	push_mix "$BATS_FILE_TMPDIR"
	local subject
	subject=$(awk '$1 == "team/app:1.0" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	# an untagged referrer of team/app:1.0, pushed by digest
	push_artifact team/app - "$subject" application/vnd.example.sbom \
		> "$BATS_FILE_TMPDIR/sbom"
	# a cosign-style tag-scheme referrer of team/app:1.1
	subject=$(awk '$1 == "team/app:1.1" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	push "$BATS_FILE_TMPDIR/layout:arm" "team/app:sha256-${subject#sha256:}.sig"
	# orphans: deep/a/b/c's only manifest deleted through the API
	curl -fsS -X DELETE "http://$REG/v2/deep/a/b/c/manifests/$(awk '$1 == "deep/a/b/c:x" { print $2 }' "$BATS_FILE_TMPDIR/pushed")"
	registry_stop	# the collector wants the registry stopped
	rg-scan "$REG_DATA" > "$BATS_FILE_TMPDIR/scan"
}

setup() {
	load helpers
	S=$BATS_FILE_TMPDIR/scan
}

pushed() {
	awk -v r="$1" '$1 == r { print $2 }' "$BATS_FILE_TMPDIR/pushed"
}

# deleted TYPE: "repo key" of the records marked for deletion, sorted
deleted() {
	jq -r --arg t "$1" 'select(.type == $t and .delete == true) |
		"\(.repo // "-") \(.tag // .digest // .uuid)"' | LC_ALL=C sort
}

@test "alone, rg-refs frees exactly the blobs the registry's collector would" {
	run --separate-stderr bash -c "rg-refs < '$S'"
	assert_success
	gc "$REG_DATA" --dry-run > "$BATS_TEST_TMPDIR/gc"
	expected=$(sed -n 's/^blob eligible for deletion: //p' "$BATS_TEST_TMPDIR/gc" | sort)
	[ -n "$expected" ]
	assert_equal "$(deleted blob <<<"$output" | cut -d' ' -f2)" "$expected"
	assert_equal "$(deleted manifest <<<"$output")" ""
	assert_equal "$(deleted tag <<<"$output")" ""
	# and the layer links of the repository left without manifests
	assert_equal "$(deleted layer <<<"$output")" \
		"$(jq -r 'select(.type == "layer" and .repo == "deep/a/b/c") | "\(.repo) \(.digest)"' "$S" | LC_ALL=C sort)"
	# nothing else moved: every other record is passed on as it was
	assert_equal "$(grep -vc '"delete":true' <<<"$output")" \
		"$(( $(wc -l < "$S") - $(wc -l <<<"$expected") - 2 + 1 ))"
}

@test "the summary and the refs record count each blob once, with the exact bytes" {
	run --separate-stderr bash -c "rg-refs < '$S'"
	bytes=$(jq -s '[.[] | select(.type == "blob" and .delete == true) | .size] | add' <<<"$output")
	n=$(deleted blob <<<"$output" | wc -l)
	assert_equal "$stderr" "rg-refs: to delete: 0 tags, 0 manifests, 2 layer links, $n blobs ($bytes bytes), 0 uploads (0 bytes)"
	assert_equal "$(tail -1 <<<"$output" | jq -c '[.type, .tags, .manifests, .layers, .blobs, .bytes]')" \
		"[\"refs\",0,0,2,$n,$bytes]"
	# the plan digest, recomputed as rg-records(5) says
	plan=$(jq -r 'select(.delete == true) | [.type, (.repo // ""), (.tag // .uuid // .digest)] | join("\t")' <<<"$output" | sha256sum | cut -d' ' -f1)
	assert_equal "$(tail -1 <<<"$output" | jq -r .plan)" "sha256:$plan"
}

@test "--untagged: rg keeps the children of tagged indexes, which the registry's 2.8 collector deletes" {
	rg-select --untagged < "$S" | rg-refs > "$BATS_TEST_TMPDIR/rg" 2> "$BATS_TEST_TMPDIR/rg.err"
	gc "$REG_DATA" --dry-run --delete-untagged > "$BATS_TEST_TMPDIR/gc"
	kids=$(jq -r 'select(.type == "manifest" and .tags != [] and .manifests != []) | .manifests[]' "$S" | sort)
	# the collector marks every child for deletion
	for k in $kids; do
		grep -qx "manifest eligible for deletion: $k" "$BATS_TEST_TMPDIR/gc"
	done
	# rg keeps them, says so, and frees only blobs the collector frees too
	run jq -r 'select(.type == "manifest" and .kept == "child-of-surviving-index") | .digest' "$BATS_TEST_TMPDIR/rg"
	assert_equal "$(sort <<<"$output")" "$kids"
	# (4: the children; the untagged SBOM, a referrer, is no --untagged candidate)
	grep -qx 'rg-refs: kept 4 marked records that surviving images need (see "kept"; -v names them)' "$BATS_TEST_TMPDIR/rg.err"
	comm -23 <(deleted blob < "$BATS_TEST_TMPDIR/rg" | cut -d' ' -f2) \
		<(sed -n 's/^blob eligible for deletion: //p' "$BATS_TEST_TMPDIR/gc" | sort) > "$BATS_TEST_TMPDIR/extra"
	[ ! -s "$BATS_TEST_TMPDIR/extra" ]
	# the untagged manifests left behind by tags pushed over do go
	assert_equal "$(deleted manifest < "$BATS_TEST_TMPDIR/rg" | cut -d' ' -f1 | sort -u)" over
}

@test "the registry's collector breaks a multi-arch image; rg's plan keeps all it needs" {
	cp -a "$REG_DATA" "$BATS_TEST_TMPDIR/data"
	gc "$BATS_TEST_TMPDIR/data" --delete-untagged > /dev/null
	mkdir "$BATS_TEST_TMPDIR/r2"
	mv "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/r2/data"
	registry_start "$BATS_TEST_TMPDIR/r2"
	run skopeo copy -q --all --src-tls-verify=false "docker://$REG/multi:1" "oci:$BATS_TEST_TMPDIR/pulled:x"
	registry_stop
	assert_failure
	assert_output --partial "manifest unknown"
	# everything a full pull of multi:1 reads survives rg's untagged sweep
	rg-select --untagged < "$S" | rg-refs > "$BATS_TEST_TMPDIR/rg" 2>/dev/null
	need=$(jq -r --arg d "$(pushed multi:1)" '
		[inputs | select(.repo == "multi" and .type == "manifest")] as $m |
		($m[] | select(.digest == $d)) as $i |
		$i.digest, ($i.manifests[] as $c | $m[] | select(.digest == $c) | .digest, .blobs[])' -n "$S" | sort -u)
	[ "$(wc -l <<<"$need")" -eq 7 ]
	marked=$(jq -r 'select(.delete == true and (.type == "blob" or .repo == "multi")) | .digest' "$BATS_TEST_TMPDIR/rg" | sort -u)
	assert_equal "$(comm -12 <(echo "$need") <(echo "$marked"))" ""
}

@test "referrers live with their subject, and go with it" {
	sbom=$(cat "$BATS_FILE_TMPDIR/sbom")
	sig=$(cat "$BATS_FILE_TMPDIR/artifact")
	# untagged, the SBOM of a surviving image is no --untagged candidate, and stays
	run bash -c "rg-select --untagged --repo '^team/app\$' < '$S' | rg-refs 2>/dev/null"
	assert_equal "$(jq -r --arg d "$sbom" 'select(.digest == $d and .type == "manifest") | [.delete // false, .kept // "-"] | @tsv' <<<"$output")" \
		"$(printf 'false\t-')"
	# selected all the same (rg-select --referrers), it goes alone: its subject stays
	run bash -c "rg-select --untagged --referrers --repo '^team/app\$' < '$S' | rg-refs 2>/dev/null"
	assert_equal "$(deleted manifest <<<"$output")" "team/app $sbom"
	assert_equal "$(jq -r --arg d "$sbom" 'select(.digest == $d and .type == "manifest") | .reason' <<<"$output")" selected
	# when the subject's only tag goes, the subject and both its referrers go, with the signature's tag
	run bash -c "rg-select team/app:1.0 < '$S' | rg-refs 2>/dev/null"
	assert_equal "$(deleted manifest <<<"$output")" "$(printf 'team/app %s\n' "$(pushed team/app:1.0)" "$sbom" "$sig" | LC_ALL=C sort)"
	assert_equal "$(deleted tag <<<"$output")" "$(printf 'team/app 1.0\nteam/app sig-1.0')"
	assert_equal "$(jq -r --arg d "$sbom" 'select(.digest == $d and .type == "manifest") | .reason' <<<"$output")" referrer-of-deleted
	assert_equal "$(jq -r 'select(.tag == "sig-1.0") | .reason' <<<"$output")" manifest-deleted
}

@test "tag-scheme referrers (sha256-<hex>.sig) live and die with the manifest <hex>" {
	subject=$(pushed team/app:1.1)
	sigtag=sha256-${subject#sha256:}.sig
	# named, it is no candidate: it goes with its image
	run rg-select "team/app:$sigtag" < "$S"
	assert_failure 2
	assert_line --index 0 "rg-select: team/app:$sigtag: a referrer tag (a signature, attestation or SBOM) goes with its image: --referrers selects those"
	# no tag criterion marks it: --tag . marks every other tag
	run bash -c "rg-select --tag . < '$S' | jq -r 'select(.type == \"tag\") | \"\(.tag) \(.delete // false)\"'"
	assert_line "$sigtag false"
	assert_line "1.1 true"
	# selected with --referrers, it goes, and its manifest; its subject stays
	run bash -c "rg-select --referrers 'team/app:$sigtag' < '$S' | rg-refs 2>/dev/null"
	assert_equal "$(deleted tag <<<"$output")" "team/app $sigtag"
	assert_equal "$(deleted manifest <<<"$output")" "team/app $(jq -r --arg t "$sigtag" 'select(.tag == $t) | .digest' "$S")"
	assert_equal "$(jq -r --arg t "$sigtag" 'select(.tag == $t) | .reason' <<<"$output")" selected
	# both tags of its subject go: the signature tag and its manifest go too
	run bash -c "rg-select team/app:1.1 team/app:stable < '$S' | rg-refs 2>/dev/null"
	assert_equal "$(deleted tag <<<"$output")" "$(printf 'team/app 1.1\nteam/app %s\nteam/app stable' "$sigtag")"
	assert_equal "$(jq -r --arg t "$sigtag" 'select(.tag == $t) | .reason' <<<"$output")" referrer-of-deleted
}

@test "a blob shared by two repositories goes only when both images go; layer links per repository" {
	run bash -c "rg-select base:1 < '$S' | rg-refs 2>/dev/null"
	assert_equal "$(deleted manifest <<<"$output")" "base $(pushed base:1)"
	assert_equal "$(deleted blob <<<"$output" | grep -c . || true)" \
		"$(jq -r 'select(.delete == true and .type == "blob")' <<<"$(rg-refs < "$S" 2>/dev/null)" | jq -s length)"
	assert_equal "$(deleted layer <<<"$output" | cut -d' ' -f1 | sort -u)" "$(printf 'base\ndeep/a/b/c')"
	run --separate-stderr bash -c "rg-select base:1 other/base:1 < '$S' | rg-refs"
	d=$(pushed base:1)
	# freed now: what of that image no other manifest references
	expected=$(jq -r -n --arg d "$d" '[inputs | select(.type == "manifest")] |
		(map(select(.digest != $d) | .digest, .blobs[]) | unique) as $other |
		(.[] | select(.digest == $d and .repo == "base") | [.digest] + .blobs) - $other | .[]' "$S" | sort)
	[ -n "$expected" ]
	alone=$(rg-refs < "$S" 2>/dev/null | deleted blob | cut -d' ' -f2)
	assert_equal "$(comm -23 <(deleted blob <<<"$output" | cut -d' ' -f2) <(echo "$alone"))" "$expected"
}

@test "stale uploads with --uploads-older-than" {
	jq -c 'if .type == "repo" and .repo == "team" then ., {type: "upload", repo: "team", uuid: "0b6f3c8e-1a2b-4c5d-8e9f-0123456789ab", started: "2020-01-01T00:00:00Z", size: 7} else . end' "$S" > "$BATS_TEST_TMPDIR/s"
	run --separate-stderr bash -c "rg-refs -U 7d < '$BATS_TEST_TMPDIR/s'"
	assert_success
	assert_equal "$(deleted upload <<<"$output")" "team 0b6f3c8e-1a2b-4c5d-8e9f-0123456789ab"
	[[ "$stderr" == *", 1 uploads (7 bytes)" ]]
	run --separate-stderr bash -c "rg-refs < '$BATS_TEST_TMPDIR/s'"
	assert_equal "$(deleted upload <<<"$output")" ""
}

@test "a scan of some repositories only: no blob is marked" {
	rg-scan -r '^team' "$REG_DATA" > "$BATS_TEST_TMPDIR/s"
	run --separate-stderr bash -c "rg-select --untagged < '$BATS_TEST_TMPDIR/s' | rg-refs"
	assert_success
	assert_equal "$(deleted blob <<<"$output")" ""
	assert_line --index 0 --partial '"type":"scan"'
	[[ "$stderr" == "rg-refs: the scan covers only some repositories (repo_filter): no blob is marked"* ]]
}

@test "a stream cut short, or a scan that could not read everything: no blob is marked" {
	expected=$(rg-refs < "$S" 2>/dev/null | deleted blob)
	[ -n "$expected" ]
	run --separate-stderr bash -c "grep -v '\"type\":\"scan-end\"' '$S' | rg-refs"
	assert_failure 1
	assert_equal "$(deleted blob <<<"$output")" ""
	[[ "$stderr" == "rg-refs: the stream ends before rg-scan's scan-end record: it was cut short; no blob is marked"* ]]
	run --separate-stderr bash -c "sed 's/\"complete\":true/\"complete\":false/' '$S' | rg-refs"
	assert_success
	assert_equal "$(deleted blob <<<"$output")" ""
	assert_equal "$(jq -r 'select(.type == "blob" and .kept) | .kept' <<<"$output" | sort -u)" ""
	[[ "$stderr" == "rg-refs: rg-scan could not read all of the storage (scan-end: \"complete\": false): no blob is marked"* ]]
}

@test "a blob marked by hand but still referenced is unmarked" {
	d=$(pushed multi:1)
	run bash -c "jq -c --arg d '$d' 'if .type == \"blob\" and .digest == \$d then .delete = true else . end' '$S' | rg-refs 2>/dev/null"
	assert_equal "$(jq -r --arg d "$d" 'select(.type == "blob" and .digest == $d) | [.delete, .kept] | @tsv' <<<"$output")" \
		"$(printf 'false\treferenced')"
}

@test "a reference spelled with JSON escapes still protects its blob" {
	# team:v2's manifest with its config digest written \u0073ha256:...
	d=$(pushed team:v2)
	config=$(jq -r --arg d "$d" 'select(.type == "manifest" and .digest == $d) | .blobs[0]' "$S")
	sed '/"type":"manifest".*"digest":"'"$d"'"/ s/"blobs":\["sha256:/"blobs":["\\u0073ha256:/' \
		"$S" > "$BATS_TEST_TMPDIR/s"
	assert_equal "$(grep -c '"blobs":\["\\u0073ha256:' "$BATS_TEST_TMPDIR/s")" 1
	run --separate-stderr rg-refs < "$BATS_TEST_TMPDIR/s"
	assert_success
	assert_equal "$(jq -r --arg c "$config" 'select(.type == "blob" and .digest == $c) | .delete // false' <<<"$output")" false
	assert_equal "$(deleted blob <<<"$output")" "$(rg-refs < "$S" 2>/dev/null | deleted blob)"
}

@test "errors: bad duration, malformed line, write error" {
	run --separate-stderr rg-refs -U 3x < "$S"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "rg-refs: --uploads-older-than: 3x: not a duration such as 90d, 12h, 2w"
	run --separate-stderr rg-refs -U 0 < "$S"	# a bare 0: zero
	assert_success
	assert_equal "$output" "$(rg-refs -U 0s < "$S" 2>/dev/null)"
	run --separate-stderr bash -c "{ head -3 '$S'; echo '{'; } | rg-refs"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "rg-refs: <stdin>:4: invalid JSON: string or '}' expected near end of file"
	run --separate-stderr bash -c "rg-refs < '$S' > /dev/full"
	assert_equal "$status" 2
	assert_equal "$(head -1 <<<"$stderr")" "rg-refs: stdout: No space left on device"
}

@test "--usage: per repository, the bytes it alone holds, shares, and in all" {
	run --separate-stderr bash -c "rg-refs --usage < '$S'"
	assert_success
	size() { jq -r --arg d "$1" 'select(.type == "blob" and .digest == $d) | .size' "$S"; }
	# base and other/base hold the same image: nothing alone
	base=$(pushed base:1)
	bytes=$(( $(size "$base") + $(jq -r --arg d "$base" 'select(.type == "manifest" and .digest == $d and .repo == "base") | .blobs[]' "$S" | while read -r b; do size "$b"; done | awk "{ s += \$1 } END { print s }") ))
	assert_line "{\"type\":\"usage\",\"repo\":\"base\",\"alone\":0,\"shared\":$bytes,\"total\":$bytes}"
	# multi alone: its index and its amd64 child (the arm64 one was pushed to team/app
	# too, configs and layers are shared with multi/docker's converted copies)
	index=$(pushed multi:1)
	amd=$(jq -r 'select(.type == "manifest" and .repo == "multi" and .platform.architecture == "amd64") | .digest' "$S")
	alone=$(( $(size "$index") + $(size "$amd") ))
	run jq -r 'select(.repo == "multi") | .alone' <<<"$output"
	assert_output "$alone"
}

@test "--usage --tags: a tag pushed over; two tags on one manifest; a referrer's tag" {
	run --separate-stderr bash -c "rg-refs -u -t < '$S'"
	assert_success
	size() { jq -r --arg d "$1" 'select(.type == "blob" and .digest == $d) | .size' "$S"; }
	# over:latest alone holds all but the base layer it shares
	latest=$(pushed over:latest)
	baselayer=$(jq -r --arg d "$(pushed base:1)" 'select(.type == "manifest" and .digest == $d and .repo == "base") | .blobs[1]' "$S")
	total=$(jq -r --arg d "$latest" 'select(.type == "tag" and .digest == $d and .repo == "over") | .size' "$S")
	assert_line "{\"type\":\"usage\",\"repo\":\"over\",\"tag\":\"latest\",\"alone\":$(( total - $(size "$baselayer") )),\"shared\":$(size "$baselayer"),\"total\":$total}"
	# 1.1 and stable point at one manifest: neither frees anything alone
	assert_equal "$(jq -r 'select(.repo == "team/app" and (.tag == "1.1" or .tag == "stable")) | .alone' <<<"$output" | sort -u)" 0
	# the signature tag survives with its subject: it frees nothing alone
	assert_equal "$(jq -r 'select(.repo == "team/app" and .tag == "sig-1.0") | .alone' <<<"$output")" 0
}

@test "--usage on a terminal: a table" {
	run script -qec "rg-refs -u < '$S'" /dev/null
	assert_success
	assert_line --index 0 --regexp '^REPOSITORY +TAG +ALONE +SHARED +TOTAL'
	assert_line --regexp '^base +0 B +[0-9.]+ [KiB]+ +[0-9.]+ [KiB]+'
}

@test "a repository that keeps manifests keeps a layer link (registry 2.8 sweeps a repository without _layers)" {
	# hand-edited: other/base's links replaced by one to a blob it does not
	# reference, which a registry cannot produce
	stray=$(jq -r 'select(.type == "layer" and .repo == "multi") | .digest' "$S" | head -1)
	jq -c --arg s "$stray" 'if .type == "layer" and .repo == "other/base" then empty
		elif .type == "repo" and .repo == "other/base" then ., {type: "layer", repo: "other/base", digest: $s}
		else . end' "$S" > "$BATS_TEST_TMPDIR/s"
	run --separate-stderr bash -c "rg-refs < '$BATS_TEST_TMPDIR/s'"
	assert_success
	assert_equal "$(deleted layer <<<"$output" | grep -c '^other/base ' || true)" 0
	# marked by hand, it is unmarked, and says why
	run --separate-stderr bash -c "jq -c 'if .type == \"layer\" and .repo == \"other/base\" then .delete = true else . end' '$BATS_TEST_TMPDIR/s' | rg-refs"
	assert_equal "$(jq -r 'select(.type == "layer" and .repo == "other/base") | [.delete, .kept] | @tsv' <<<"$output")" \
		"$(printf 'false\tlast-layer-link')"
	# with no manifest left there, it goes
	run --separate-stderr bash -c "rg-select other/base < '$BATS_TEST_TMPDIR/s' | rg-refs"
	assert_equal "$(deleted layer <<<"$output" | grep -c '^other/base ' || true)" 1
}

@test "a surviving manifest that cannot be read: no blob is marked, exit 1" {
	# hand-made: a registry never stores a manifest it cannot parse
	cp -a "$REG_DATA" "$BATS_TEST_TMPDIR/data"
	d=$(pushed team:v2)
	echo 'not json' > "$BATS_TEST_TMPDIR/data/docker/registry/v2/blobs/sha256/${d:7:2}/${d#sha256:}/data"
	rg-scan "$BATS_TEST_TMPDIR/data" > "$BATS_TEST_TMPDIR/s" 2>/dev/null || true
	run --separate-stderr bash -c "rg-refs < '$BATS_TEST_TMPDIR/s'"
	assert_equal "$status" 1
	assert_equal "$(deleted blob <<<"$output")" ""
	assert_line --index 0 --partial '"type":"scan"'
	[[ "$stderr" == "rg-refs: team@$d: a surviving manifest that could not be read: no blob is marked"* ]]
}
