# rg-rm, and the whole pipeline end to end, on a real registry's storage:
# after each run the registry is restarted on what is left and pulled from.

setup_file() {
	load helpers
	mix_storage "$BATS_FILE_TMPDIR"
	sleep 1		# rg-rm keeps what was written in the second of the scan
}

setup() {
	load helpers
	P=$BATS_FILE_TMPDIR/data
	mix_copy
	D=$R/data
	V2=$D/docker/registry/v2
}

teardown() {
	registry_stop
}

pushed() {
	awk -v r="$1" '$1 == r { print $2 }' "$BATS_FILE_TMPDIR/pushed"
}

# the files and directories of the storage, without the trash
files() {
	(cd "$1/docker/registry/v2" && find . -path ./.rg-trash -prune -o -print | LC_ALL=C sort)
}

@test "the whole cleanup: deleted tags go, every other tag pulls whole, the collector finds nothing left, the storage shrinks by the bytes reported" {
	before=$(blob_bytes "$D")
	rg-scan "$D" | rg-select team/app:1.0 base:1 | rg-select --untagged |
		rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	total=$(tail -1 <<<"$output")
	assert_equal "$(jq -c '[.type, .dry_run, .tags]' <<<"$total")" '["rm-total",false,3]'
	bytes=$(jq .bytes <<<"$total")
	[ "$bytes" -gt 0 ]
	assert_equal "$(( before - $(blob_bytes "$D") ))" "$bytes"
	assert_equal "$bytes" "$(tail -1 "$BATS_TEST_TMPDIR/plan" | jq .bytes)"
	[[ "$stderr" == *"rg-rm: deleted: 3 tags, "* ]]	# and team/app:sig-1.0
	[[ "$stderr" == *"if it caches blob descriptors in memory, restart it now"* ]]
	# one audit record per object, as many as rg-refs planned
	assert_equal "$(jq -s '[.[] | select(.type == "rm" and .result == "deleted")] | length' <<<"$output")" \
		"$(jq -s '[.[] | select(.delete == true)] | length' "$BATS_TEST_TMPDIR/plan")"

	registry_start "$R"
	# the tag sig-1.0 is a referrer of team/app:1.0: it went with it
	assert_equal "$(listed)" "$(printf '%s\n' base:1 deep/a/b/c:x multi/docker:1 multi:1 \
		other/base:1 over:latest team/app:1.1 team/app:stable team:v2 | LC_ALL=C sort | grep -vx base:1)"
	pulls other/base:1 deep/a/b/c:x multi/docker:1 multi:1 over:latest \
		team/app:1.1 team/app:stable team:v2
	run skopeo inspect --raw --tls-verify=false "docker://$REG/team/app:1.0"
	assert_failure
	registry_stop
	gc "$D" --dry-run > "$BATS_TEST_TMPDIR/gc"
	assert_equal "$(grep -c 'eligible for deletion: ' "$BATS_TEST_TMPDIR/gc")" 0
	# once more: nothing left to do
	rg-scan "$D" | rg-select --untagged | rg-refs 2>/dev/null | rg-rm --min-age 0s > "$BATS_TEST_TMPDIR/again"
	assert_equal "$(tail -1 "$BATS_TEST_TMPDIR/again" | jq -c '[.tags, .manifests, .layers, .blobs, .bytes]')" '[0,0,0,0,0]'
	# the same plan again: what is gone is not an error
	run rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" gone
}

@test "--jobs on a filesystem: the same objects go as with one job, the same files are left, every other tag pulls whole" {
	local j
	cp -a "$D" "$R/data-j1"
	for j in 1 4; do
		local d=$D
		[ "$j" = 4 ] || d=$R/data-j1
		rg-scan "$d" | rg-select team/app:1.0 base:1 multi:1 | rg-select --untagged |
			rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan$j"
		run --separate-stderr rg-rm -j "$j" --min-age 0s < "$BATS_TEST_TMPDIR/plan$j"
		assert_success
		jq -c 'select(.type == "rm") | del(.run)' <<<"$output" | LC_ALL=C sort > "$BATS_TEST_TMPDIR/rm$j"
		files "$d" > "$BATS_TEST_TMPDIR/left$j"
	done
	[ "$(grep -c '"deleted"' "$BATS_TEST_TMPDIR/rm1")" -gt 10 ]
	diff "$BATS_TEST_TMPDIR/rm1" "$BATS_TEST_TMPDIR/rm4"
	diff "$BATS_TEST_TMPDIR/left1" "$BATS_TEST_TMPDIR/left4"
	registry_start "$R"
	for t in $(listed); do
		pulls "$t"
	done
}

@test "an untagged sweep: the registry's 2.8 collector breaks the multi-arch images, rg's pipeline keeps them whole" {
	cp -a "$D" "$BATS_TEST_TMPDIR/gcdata"
	gc "$BATS_TEST_TMPDIR/gcdata" --delete-untagged > /dev/null
	mkdir "$BATS_TEST_TMPDIR/gcreg"
	mv "$BATS_TEST_TMPDIR/gcdata" "$BATS_TEST_TMPDIR/gcreg/data"
	registry_start "$BATS_TEST_TMPDIR/gcreg"
	run pulls multi:1
	assert_failure
	run pulls multi/docker:1
	assert_failure
	registry_stop

	rg-scan "$D" | rg-select --untagged | rg-refs 2>/dev/null | rg-rm --min-age 0s > "$BATS_TEST_TMPDIR/audit"
	# it deleted something: over:latest's two earlier images
	assert_equal "$(jq -s '[.[] | select(.object == "manifest" and .result == "deleted")] | length' "$BATS_TEST_TMPDIR/audit")" 2
	# and the tag's history of them: only what it points at now is left
	assert_equal "$(ls "$V2/repositories/over/_manifests/tags/latest/index/sha256")" \
		"$(pushed over:latest | cut -d: -f2)"
	registry_start "$R"
	pulls multi:1 multi/docker:1 over:latest team/app:1.0 team/app:sig-1.0
	registry_stop
	gc "$D" --dry-run > "$BATS_TEST_TMPDIR/gc"
	assert_equal "$(grep -c 'eligible for deletion: ' "$BATS_TEST_TMPDIR/gc")" 0
}

@test "--dry-run changes nothing, and reports what a real run then does" {
	sum=$(tree_sum "$D")
	rg-scan "$D" | rg-select over team/app:1.0 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -n --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(tree_sum "$D")" "$sum"
	[[ "$stderr" == *"rg-rm: would delete: 3 tags, "*"(dry run: nothing changed)"* ]]
	dry=$(jq -c 'select(.type == "rm") | del(.result)' <<<"$output")
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" would-delete
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	# the same records, but the result and the run (a dry run is none)
	assert_equal "$(jq -c 'select(.type == "rm") | del(.result, .run)' <<<"$output")" "$dry"
	[ "$(jq -c 'select(.type == "rm") | .run' <<<"$output" | sort -u | wc -l)" -eq 1 ]
	[ "$(tree_sum "$D")" != "$sum" ]
}

@test "only what rg-refs approved: without it tags only; a stream changed after it is refused whole" {
	rg-scan "$D" > "$BATS_TEST_TMPDIR/scan"
	# rg-select alone: the tag goes, the manifests it marked by hand do not
	run --separate-stderr bash -c "rg-select over < '$BATS_TEST_TMPDIR/scan' |
		jq -c 'if .type == \"manifest\" and .repo == \"over\" and .tags == [] then .delete = true else . end' |
		rg-rm --min-age 0s"
	assert_failure 1
	assert_equal "$(jq -r 'select(.type == "rm") | "\(.object) \(.result)"' <<<"$output" | sort | uniq -c | awk '{ print $1, $2, $3 }')" \
		"$(printf '2 manifest refused\n1 tag deleted')"
	[[ "$stderr" == *"2 manifests, layer links, blobs or uploads not deleted: the stream has not passed rg-refs"* ]]
	[ ! -e "$V2/repositories/over/_manifests/tags/latest" ]
	[ -e "$V2/repositories/over/_manifests/revisions/sha256/$(jq -r 'select(.type == "manifest" and .repo == "over" and .tags == []) | .digest' "$BATS_TEST_TMPDIR/scan" | head -1 | cut -c8-)/link" ]

	# a blob a live image needs, marked by hand after rg-refs
	live=$(jq -r --arg d "$(pushed multi:1)" 'select(.type == "manifest" and .digest == $d) | .manifests[0]' "$BATS_TEST_TMPDIR/scan")
	sum=$(tree_sum "$D")
	rg-refs < "$BATS_TEST_TMPDIR/scan" 2>/dev/null |
		jq -c --arg d "$live" 'if .type == "blob" and .digest == $d then .delete = true else . end' > "$BATS_TEST_TMPDIR/edited"
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/edited"
	assert_failure 2
	assert_output ""
	[[ "$stderr" == "rg-rm: <stdin>:"*": the marks do not match rg-refs' plan: the stream was changed after rg-refs; nothing deleted" ]]
	assert_equal "$(tree_sum "$D")" "$sum"
	# a stream cut short: rg-scan's last record missing
	grep -v '"type":"scan-end"' "$BATS_TEST_TMPDIR/scan" | rg-select team:v2 |
		{ run --separate-stderr rg-rm; assert_failure 2
		assert_equal "$stderr" "rg-rm: the stream ends before rg-scan's scan-end record: it was cut short; nothing deleted"; }
	# a record after the refs record
	{ cat "$BATS_TEST_TMPDIR/edited"; echo '{"type":"tag","repo":"team","tag":"v2","delete":true}'; } |
		{ run --separate-stderr rg-rm; assert_failure 2; }
	assert_equal "$(tree_sum "$D")" "$sum"
}

@test "a stale scan is refused; what is pushed or linked after the scan is kept" {
	rg-scan "$D" | rg-select base:1 other/base:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	sleep 2
	run --separate-stderr rg-rm --max-age 1s < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	[[ "$stderr" == "rg-rm: the scan is "*" seconds old (--max-age 1): "* ]]
	# base pushed again, to another repository, after the scan
	registry_start "$R"
	skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
		"docker://$REG/base:1" "docker://$REG/again/base:1"
	registry_stop
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[[ "$stderr" == *"kept "*" marked objects"* ]]
	assert_equal "$(jq -r 'select(.object == "blob") | .result' <<<"$output" | sort -u)" kept
	registry_start "$R"
	pulls again/base:1 team/app:1.0
	run pulls base:1
	assert_failure
}

@test "--min-age keeps what is young: manifests, layer links, blob data; tags go" {
	rg-scan "$D" | rg-select base:1 other/base:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -v < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.object == "manifest") | .why' <<<"$output" | sort -u)" "younger than --min-age"
	assert_equal "$(jq -r 'select(.object == "layer" or .object == "blob") | .result' <<<"$output" | sort -u)" kept
	# -v names each, at its line of the stream
	first=$(grep -m1 'manifest kept' <<<"$stderr")
	[[ "$first" =~ ^rg-rm:\ \<stdin\>:([0-9]+):\ manifest\ kept:\ younger\ than\ --min-age$ ]]
	assert_equal "$(sed -n "${BASH_REMATCH[1]}p" "$BATS_TEST_TMPDIR/plan" | jq -r '[.type, .delete] | @tsv')" "$(printf 'manifest\ttrue')"
	assert_equal "$(jq -r 'select(.object == "tag") | .result' <<<"$output" | sort -u)" deleted
	assert_equal "$(tail -1 <<<"$output" | jq .bytes)" 0
	# young blob data alone: the manifests and links old, the data new
	rg-scan "$D" | rg-select --untagged | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	find "$V2/repositories" -exec touch -h -d '-2 hours' {} +
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.object == "blob") | .why' <<<"$output" | sort -u)" "younger than --min-age"
	assert_equal "$(jq -r 'select(.object == "manifest") | .result' <<<"$output" | sort -u)" deleted
}

@test "--prune: repositories left empty leave the catalog; a namespace of others stays" {
	rg-scan "$D" | rg-select deep/a/b/c team over | rg-select --untagged | rg-refs 2>/dev/null |
		rg-rm --prune --min-age 0s > "$BATS_TEST_TMPDIR/audit"
	assert_equal "$(jq -r 'select(.object == "repository") | "\(.repo) \(.result)"' "$BATS_TEST_TMPDIR/audit")" \
		"$(printf '%s deleted\n' deep/a/b/c over team | LC_ALL=C sort)"
	[ ! -e "$V2/repositories/deep" ]
	[ ! -e "$V2/repositories/over" ]
	[ -d "$V2/repositories/team/app/_manifests" ]
	[ ! -e "$V2/repositories/team/_manifests" ]
	[ ! -e "$V2/repositories/team/_layers" ]
	registry_start "$R"
	assert_equal "$(curl -fsS "http://$REG/v2/_catalog" | jq -r '.repositories | join(" ")')" \
		"base multi multi/docker other/base team/app"
	pulls team/app:1.0 team/app:1.1 base:1
}

@test "hostile records: bad names, paths out of the root, symbolic links; nothing outside the root is touched" {
	canary=$BATS_TEST_TMPDIR/canary
	hex=$(printf 'canary' | sha256sum | cut -d' ' -f1)
	hex2=$(printf 'canary2' | sha256sum | cut -d' ' -f1)	# links that stay keep their blob: not hex
	mkdir -p "$canary/repo/_manifests/tags/x/current" "$canary/repo/_layers/sha256/$hex" "$canary/blob"
	printf 'sha256:%s' "$hex" > "$canary/repo/_manifests/tags/x/current/link"
	printf 'sha256:%s' "$hex" > "$canary/repo/_layers/sha256/$hex/link"
	echo keep > "$canary/blob/data"
	ln -s "$canary/repo" "$V2/repositories/evil"
	ln -s "$canary/repo/_layers" "$V2/repositories/team/app/_layers2"
	rm -rf "$V2/repositories/other/base/_layers"
	ln -s "$canary/repo/_layers" "$V2/repositories/other/base/_layers"
	mkdir -p "$V2/blobs/sha256/${hex:0:2}"
	ln -s "$canary/blob" "$V2/blobs/sha256/${hex:0:2}/$hex"
	sum=$(tree_sum "$canary")
	scan=$(rg-scan "$D" 2>/dev/null | head -1)
	records=(
		'{"type":"tag","repo":"evil","tag":"x"}'
		'{"type":"tag","repo":"../../canary/repo","tag":"x"}'
		'{"type":"tag","repo":"team/app","tag":"../../../x"}'
		'{"type":"tag","repo":"/etc","tag":"x"}'
		"{\"type\":\"manifest\",\"repo\":\"team/app\",\"digest\":\"sha256:../../../../canary\"}"
		"{\"type\":\"blob\",\"digest\":\"sha256:${hex^^}\"}"
		"{\"type\":\"blob\",\"digest\":\"sha256:$hex\"}"
		"{\"type\":\"layer\",\"repo\":\"other/base\",\"digest\":\"sha256:$hex2\"}"
		"{\"type\":\"layer\",\"repo\":\"evil\",\"digest\":\"sha256:$hex2\"}"
		'{"type":"upload","repo":"team/app","uuid":"../../../canary"}'
	)
	plan=$(for r in "${records[@]}"; do
		jq -j '[.type, (.repo // ""), (.tag // .uuid // .digest)] | join("\t") + "\n"' <<<"$r"
	done | sha256sum | cut -d' ' -f1)
	{
		echo "$scan"
		for r in "${records[@]}"; do jq -c '.delete = true' <<<"$r"; done
		echo '{"type":"scan-end","complete":true}'
		echo "{\"type\":\"refs\",\"plan\":\"sha256:$plan\"}"
	} > "$BATS_TEST_TMPDIR/hostile"
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/hostile"
	assert_failure 1
	assert_equal "$(tree_sum "$canary")" "$sum"
	assert_equal "$(grep -c 'nothing deleted for it' <<<"$stderr")" 6
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort | uniq -c | awk '{ print $1, $2 }')" \
		"$(printf '3 failed\n6 invalid\n1 kept')"
	# the layer link of evil is kept: its tag could not be deleted
	assert_equal "$(jq -r 'select(.result == "kept") | "\(.repo) \(.object)"' <<<"$output")" "evil layer"
	assert_equal "$(grep -c "Too many levels of symbolic links" <<<"$stderr")" 3
	# the symbolic links themselves are still there: not followed, not deleted
	[ -L "$V2/repositories/evil" ]
	[ -L "$V2/repositories/other/base/_layers" ]
	# the same where the kernel has no openat2 (ENOSYS): the walk a component at a time
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 run --separate-stderr \
		strace -f -o "$BATS_TEST_TMPDIR/strace" -e trace=openat2 -e inject=openat2:error=ENOSYS \
		rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/hostile"
	assert_failure 1
	grep -q 'openat2(.*= -1 ENOSYS' "$BATS_TEST_TMPDIR/strace"
	assert_equal "$(grep -c 'openat2(' "$BATS_TEST_TMPDIR/strace")" 1
	assert_equal "$(tree_sum "$canary")" "$sum"
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort | uniq -c | awk '{ print $1, $2 }')" \
		"$(printf '3 failed\n6 invalid\n1 kept')"
	assert_equal "$(grep -c "Too many levels of symbolic links" <<<"$stderr")" 3
	[ -L "$V2/repositories/evil" ]
	[ -L "$V2/repositories/other/base/_layers" ]
}

@test "killed at any moment (SIGKILL): every surviving image still pulls, and running again finishes the job" {
	cp -a "$D" "$BATS_TEST_TMPDIR/ref"
	plan() {
		rg-scan "$1" | rg-select team/app:1.0 over | rg-select --untagged | rg-refs 2>/dev/null
	}
	plan "$BATS_TEST_TMPDIR/ref" | rg-rm --min-age 0s > /dev/null
	final=$(files "$BATS_TEST_TMPDIR/ref")
	for at in renameat:1 renameat:4 renameat:9 renameat:15 unlinkat:2 unlinkat:11 unlinkat:30; do
		rm -rf "$D"
		cp -a "$P" "$D"
		plan "$D" > "$BATS_TEST_TMPDIR/plan"
		run strace -f -o /dev/null -e trace="${at%:*}" \
			-e inject="${at%:*}:signal=KILL:when=${at#*:}" \
			rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
		assert_equal "$at $status" "$at 137"
		registry_start "$R"
		pulls $(listed)
		registry_stop
		# what it had moved and not yet decided comes back on the next
		# run (its scan did not see it), and goes on the one after
		plan "$D" | rg-rm --min-age 0s > /dev/null
		plan "$D" | rg-rm --min-age 0s > /dev/null
		assert_equal "$(files "$D")" "$final"
		assert_equal "$at: $(ls -A "$V2/.rg-trash")" "$at: "
	done
}

# every tag, revision, layer link and blob of the storage DIR, as a path below v2
objects() {
	(cd "$1/docker/registry/v2" && find repositories blobs -type d) | grep -E \
		'/_manifests/tags/[^/]+$|/_manifests/revisions/sha256/[0-9a-f]{64}$|/_layers/sha256/[0-9a-f]{64}$|^blobs/sha256/[0-9a-f]{2}/[0-9a-f]{64}$' |
		LC_ALL=C sort
}

# the objects the audit logs FILE... name as deleted, as objects() prints them
named() {
	jq -r 'select(.type == "rm" and .result == "deleted") |
		(.digest // "" | ltrimstr("sha256:")) as $h |
		if .object == "tag" then "repositories/\(.repo)/_manifests/tags/\(.tag)"
		elif .object == "manifest" then "repositories/\(.repo)/_manifests/revisions/sha256/\($h)"
		elif .object == "layer" then "repositories/\(.repo)/_layers/sha256/\($h)"
		elif .object == "blob" then "blobs/sha256/\($h[0:2])/\($h)"
		else empty end' "$@" | LC_ALL=C sort -u
}

@test "the audit log when killed (SIGKILL): what it names as deleted is gone; what is gone is named, or named by the reruns" {
	plan() {
		rg-scan "$D" | rg-select team/app:1.0 over | rg-select --untagged | rg-refs 2>/dev/null
	}
	T=$BATS_TEST_TMPDIR
	for at in renameat:1 renameat:2 renameat:5 renameat:9 renameat:14 unlinkat:1 unlinkat:4 unlinkat:12 unlinkat:25; do
		rm -rf "$D"
		cp -a "$P" "$D"
		objects "$D" > "$T/before"
		plan > "$T/plan"
		st=0
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 strace -f -o /dev/null \
			-e trace="${at%:*}" -e inject="${at%:*}:signal=KILL:when=${at#*:}" \
			rg-rm --min-age 0s < "$T/plan" > "$T/log" 2>/dev/null || st=$?
		assert_equal "$at $st" "$at 137"
		objects "$D" > "$T/after"
		named "$T/log" > "$T/named"
		# named as deleted: gone
		assert_equal "$at: $(LC_ALL=C comm -12 "$T/named" "$T/after")" "$at: "
		LC_ALL=C comm -23 "$T/before" "$T/after" | LC_ALL=C comm -23 - "$T/named" > "$T/unnamed"
		# gone and not named: it was pending, so the next run puts it back,
		# and it goes with the run after, named
		plan | rg-rm --min-age 0s > "$T/log1"
		plan | rg-rm --min-age 0s > "$T/log2"
		assert_equal "$at: $(named "$T/log1" "$T/log2" | LC_ALL=C comm -13 - "$T/unnamed")" "$at: "
		killed_named=$(( ${killed_named:-0} + $(wc -l < "$T/named") ))
		killed_unnamed=$(( ${killed_unnamed:-0} + $(wc -l < "$T/unnamed") ))
	done
	# the kills came after deletions were logged, and before others were
	[ "$killed_named" -gt 0 ]
	[ "$killed_unnamed" -gt 0 ]
}

@test "the storage root: from the scan record or --root, never two different ones" {
	rg-scan "$D" | rg-select team:v2 > "$BATS_TEST_TMPDIR/plan"
	mkdir "$BATS_TEST_TMPDIR/other"
	run --separate-stderr rg-rm --root "$BATS_TEST_TMPDIR/other" < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: --root $BATS_TEST_TMPDIR/other is not the storage the stream was scanned from ($V2)"
	tail -n +2 "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/noscan"
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/noscan"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: no storage root: the stream has no scan record; give --root"
	[ -e "$V2/repositories/team/_manifests/tags/v2/current/link" ]
	run --separate-stderr rg-rm --root "$D" < "$BATS_TEST_TMPDIR/noscan"
	assert_success
	[ ! -e "$V2/repositories/team/_manifests/tags/v2" ]
}

@test "errors: usage, bad durations, malformed input, a closed pipe, a full device; --help" {
	run --separate-stderr rg-rm --max-age 3x
	assert_failure 2
	assert_equal "$stderr" "rg-rm: --max-age: 3x: not a duration such as 90d, 12h, 2w"
	# a bare 0 is zero: nothing is young
	rg-scan "$D" | rg-select team:v2 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/zero"
	run --separate-stderr rg-rm -n --min-age 0 < "$BATS_TEST_TMPDIR/zero"
	assert_success
	assert_equal "$(jq -c 'del(.time)' <<<"$output")" \
		"$(rg-rm -n --min-age 0s < "$BATS_TEST_TMPDIR/zero" 2>/dev/null | jq -c 'del(.time)')"
	# the API's options with a storage stream: said, nothing deleted
	for opt in "-u bob" "-k" "--cacert /dev/null" "--cert /dev/null" "--key /dev/null"; do
		run --separate-stderr rg-rm $opt --min-age 0s < "$BATS_TEST_TMPDIR/zero"
		assert_equal "$opt $status" "$opt 2"
		[[ "$stderr" == "rg-rm: --"*": applies to a stream scanned through a registry's URL"*"; this one is a scan of its storage at $V2" ]]
	done
	[ -e "$V2/repositories/team/_manifests/tags/v2" ]
	# one rg-rm at a time on a storage: a second one is refused
	mkdir -p "$V2/.rg-trash"
	flock "$V2/.rg-trash" sleep 3 3>&- &
	sleep 0.5
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/zero"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: $V2/.rg-trash: another rg-rm is deleting from this storage (it holds the lock); nothing deleted"
	[ -e "$V2/repositories/team/_manifests/tags/v2" ]
	wait
	run --separate-stderr rg-rm extra
	assert_failure 2
	[[ "$stderr" == "usage: rg-rm "* ]]
	run --separate-stderr rg-rm <<<'{"type":"scan",'
	assert_failure 2
	[[ "$stderr" == "rg-rm: <stdin>:1: invalid JSON: "* ]]
	rg-scan "$D" | rg-select team:v2 > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr bash -c "rg-rm -n < '$BATS_TEST_TMPDIR/plan' > /dev/full"
	assert_failure 2
	[[ "$stderr" == *"rg-rm: stdout: No space left on device"* ]]
	run bash -c "rg-rm -n < '$BATS_TEST_TMPDIR/plan' | head -c 0"
	run rg-rm --help
	assert_success
	assert_output --partial "usage: rg-rm"
	run rg-rm --version
	assert_output --regexp '^rg-rm [0-9]'
	# empty input: nothing to do
	run --separate-stderr rg-rm < /dev/null
	assert_success
	assert_equal "$(jq -c '[.type, .tags, .blobs]' <<<"$output")" '["rm-total",0,0]'
}
