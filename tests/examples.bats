# The scripts in examples/, the demo and the benchmark's tree generator, run
# for real.

setup_file() {
	load helpers
	registry_start "$BATS_FILE_TMPDIR/reg"
	push_mix "$BATS_FILE_TMPDIR"
	registry_stop	# the tests read its storage, or serve a copy of it
}

teardown() {
	registry_stop
}

setup() {
	load helpers
	EX=$BATS_TEST_DIRNAME/../examples
}

@test "examples pass shellcheck" {
	run shellcheck $(grep -l '^#!/bin/sh' "$EX"/*)
	assert_success
	[ "$(grep -l '^#!/bin/sh' "$EX"/* | wc -l)" -ge 8 ]
}

# copy: a copy of the fixture's storage, a second older than now (rg-rm
# keeps what was written in the second of its scan)
copy() {
	cp -a "$REG_DATA" "$BATS_TEST_TMPDIR/copy"
	C=$BATS_TEST_TMPDIR/copy
	CR=$C/docker/registry/v2/repositories
	sleep 1
}

# serve_copy: the registry, on the copy
serve_copy() {
	mkdir -p "$BATS_TEST_TMPDIR/r"
	mv "$C" "$BATS_TEST_TMPDIR/r/data"
	registry_start "$BATS_TEST_TMPDIR/r"
	C=$BATS_TEST_TMPDIR/r/data
}

@test "examples/delete-repo: a whole repository, untagged manifests too; shared layers stay" {
	copy
	sum=$(cd "$C" && find . -printf '%p %s %T@\n' | sort | sha256sum)
	run "$EX/delete-repo" -n over "$C"
	assert_success
	assert_equal "$(cd "$C" && find . -printf '%p %s %T@\n' | sort | sha256sum)" "$sum"
	RG_MIN_AGE=0s run --separate-stderr "$EX/delete-repo" over "$C"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | .object' <<<"$output" | sort | uniq -c | awk '{ print $2 }' | paste -sd' ')" \
		"blob layer manifest repository tag"
	[ ! -e "$CR/over" ]
	gc "$C" --dry-run > "$BATS_TEST_TMPDIR/gc"
	assert_equal "$(grep -c 'eligible for deletion: ' "$BATS_TEST_TMPDIR/gc")" 0
	serve_copy
	run curl -fsS "http://$REG/v2/_catalog"
	refute_output --partial '"over"'
	pulls team/app:1.0 team/app:1.1	# they share layers with over's images
}

@test "examples/delete-tag: one tag; another tag on the same image keeps it" {
	copy
	RG_MIN_AGE=0s run --separate-stderr "$EX/delete-tag" team/app:1.1 "$C"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | "\(.object) \(.result)"' <<<"$output")" "tag deleted"
	[ ! -e "$CR/team/app/_manifests/tags/1.1" ]
	[ -e "$CR/team/app/_manifests/tags/stable/current/link" ]
	# a registry's URL instead of its storage: through the API
	serve_copy
	run --separate-stderr "$EX/delete-tag" team/app:stable "http://$REG"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | "\(.object) \(.result)"' <<<"$output" | sort | paste -sd' ')" \
		"manifest deleted tag deleted"
	run curl -fsS "http://$REG/v2/team/app/tags/list"
	assert_output '{"name":"team/app","tags":["sig-1.0","1.0"]}'
	pulls team/app:1.0 team/app:sig-1.0
}

@test "examples/keep-last: the newest N matching tags kept, the rest between two dates deleted" {
	copy
	RG_MIN_AGE=0s run --separate-stderr "$EX/keep-last" '^team/app$' '^1\.' 1 \
		2021-01-15T00:00:00Z 2021-03-15T00:00:00Z "$C"
	assert_success
	# 1.1 (2021-03-01) is the newest; 1.0 (2021-02-01) goes, and its signature with it
	assert_equal "$(jq -r 'select(.type == "rm" and .object == "tag") | .tag' <<<"$output" | sort | paste -sd' ')" \
		"1.0 sig-1.0"
	[ -e "$CR/team/app/_manifests/tags/1.1/current/link" ]
	run "$EX/keep-last" only-four-args a 1 2021-01-01T00:00:00Z
	assert_failure 2
}

@test "examples/sweep-untagged: the images left by tags pushed over go; multi-arch images stay whole" {
	copy
	RG_MIN_AGE=0s run --separate-stderr "$EX/sweep-untagged" "$C"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm" and .object == "manifest") | .repo' <<<"$output" | paste -sd' ')" "over over"
	serve_copy
	pulls multi:1 multi/docker:1 over:latest
}

@test "examples/nightly, from cron and from a systemd timer; examples/last-run reports what it did" {
	copy
	# the cron line: five time fields, a user, then the command
	line=$(grep -v '^#' "$EX/rg.cron")
	[[ "$line" =~ ^[0-9*]+\ [0-9*]+\ \*\ \*\ \*[[:space:]]+root[[:space:]]+RG_ROOT=[^\ ]+\ RG_LOG=[^\ ]+\ /usr/local/bin/rg-nightly$ ]]
	# the systemd units, checked by systemd itself, with the script where it is here
	mkdir "$BATS_TEST_TMPDIR/units"
	sed "s|/usr/local/bin/rg-nightly|$EX/nightly|" "$EX/rg-cleanup.service" > "$BATS_TEST_TMPDIR/units/rg-cleanup.service"
	cp "$EX/rg-cleanup.timer" "$BATS_TEST_TMPDIR/units/"
	run systemd-analyze verify "$BATS_TEST_TMPDIR/units/rg-cleanup.service" "$BATS_TEST_TMPDIR/units/rg-cleanup.timer"
	assert_success
	assert_equal "$(sed -n 's/^ExecStart=//p' "$EX/rg-cleanup.service")" /usr/local/bin/rg-nightly
	# the run itself, as both would start it, beside a registry with
	# Debian's in-memory cache, stopped and started again around the blobs
	REG_CACHE=inmemory serve_copy
	pulls team/app:1.0 over:latest	# its cache knows their blobs
	ctl="$BATS_TEST_DIRNAME/registryctl $BATS_TEST_TMPDIR/r"
	RG_ROOT=$C RG_LOG=$BATS_TEST_TMPDIR/log RG_KEEP=1 RG_MIN_AGE=0s RG_CONFIG=$REG_CONFIG \
		RG_STOP="$ctl stop" RG_START="$ctl start" run "$EX/nightly"
	assert_success
	assert_output ""
	pulls team/app:stable over:latest multi:1
	push "$BATS_FILE_TMPDIR/layout:app1" team/app:again	# 1.0's layers, just deleted
	pulls team/app:again
	audit=$BATS_TEST_TMPDIR/log/$(date -u +%F).jsonl
	assert_equal "$(tail -1 "$audit" | jq -c '[.type, .tags]')" '["rm-total",3]'
	grep -q 'rg nightly: exit 0$' "$BATS_TEST_TMPDIR/log/rg.log"
	# team/app keeps stable; over keeps latest
	[ -e "$CR/team/app/_manifests/tags/stable" ] && [ ! -e "$CR/team/app/_manifests/tags/1.0" ]
	run "$EX/last-run" "$audit"
	assert_success
	# 1.0 and 1.1, and sig-1.0 with 1.0 (its subject); 1.1's image stays with stable
	assert_line --regexp '^team/app	[0-9]+ layers, 2 manifests, 3 tags	0 bytes$'
	assert_line --regexp '^total: 3 tags, 4 manifests, [0-9]+ blobs, [0-9]+ bytes$'
}

@test "examples/oldest-tags: the N oldest tags by push time" {
	cp -a "$REG_DATA" "$BATS_TEST_TMPDIR/copy"
	r=$BATS_TEST_TMPDIR/copy/docker/registry/v2/repositories
	touch -d 2001-01-01T00:00:00Z "$r/over/_manifests/tags/latest/current/link"
	touch -d 2002-01-01T00:00:00Z "$r/team/app/_manifests/tags/1.0/current/link"
	touch -d 2003-01-01T00:00:00Z "$r/base/_manifests/tags/1/current/link"
	run "$EX/oldest-tags" 3 "$BATS_TEST_TMPDIR/copy"
	assert_success
	assert_output "$(printf '%s\t%s\n' \
		"2001-01-01T00:00:00Z  2021-04-01T00:00:00Z  $(rg-scan "$REG_DATA" | jq -r 'select(.tag == "latest" and .repo == "over") | .size')" over:latest \
		"2002-01-01T00:00:00Z  2021-02-01T00:00:00Z  $(rg-scan "$REG_DATA" | jq -r 'select(.tag == "1.0") | .size')" team/app:1.0 \
		"2003-01-01T00:00:00Z  2021-01-01T00:00:00Z  $(rg-scan "$REG_DATA" | jq -r 'select(.repo == "base" and .type == "tag") | .size')" base:1)"
}

@test "examples/space-per-repo: bytes each repository's tags reference" {
	run "$EX/space-per-repo" "$REG_DATA"
	assert_success
	# multi: the index, two children, their configs and layers, from the blobs on disk
	expected=$(rg-scan -r '^multi$' "$REG_DATA" | jq -s '
		(map(select(.type == "blob")) | map({key: .digest, value: .size}) | from_entries) as $s |
		[.[] | select(.type == "manifest") | .digest, .blobs[]] | unique | map($s[.]) | add')
	assert_line "$expected"$'\t1 tags\tmulti'
}

@test "make demo's script: a throwaway registry, a report, the cleanup as a dry run then for real, every tag pulled after" {
	run "$BATS_TEST_DIRNAME/demo" "$RG_BIN"
	assert_success
	assert_line --regexp '^  8 repositories, 13 tags, 18 manifests, [0-9]+ blobs holding'
	assert_line --regexp '^over +1 +3 +2  2021-04-01T00:00:00Z$'
	[[ "$(sed -n '/^marks:$/{n;p;}' <<<"$output")" =~ ^\ \ team/app:1\.0\ \ created\ 2021-02-01T00:00:00Z\ \ [0-9]+\ bytes$ ]]
	assert_line --regexp '^  rg-rm: would delete: 3 tags, 5 manifests, [0-9]+ layer links, [0-9]+ blobs, 0 uploads \([0-9]+ bytes\), 0 repositories \(dry run: nothing changed\)$'
	assert_line --regexp '^  rg-rm: deleted: 3 tags, 5 manifests, [0-9]+ layer links, [0-9]+ blobs, 0 uploads \([0-9]+ bytes\), 0 repositories$'
	assert_line --regexp '^Storage: [0-9]+ bytes before, [0-9]+ after: [0-9]+ bytes freed \([1-9][0-9]* of them blob data\)\.$'
	assert_equal "$(grep -c '^  pulled ' <<<"$output")" 10
	# the signatures: 1.0's went with it, 1.1's stays and verifies
	assert_line "  team/app:1.1 stays signed: its signature verifies"
	assert_line --regexp '^  team/app:1\.0 went, and its signature with it \(sha256-[0-9a-f]{64}\.sig: HTTP 404\)$'
	assert_line --regexp '^  pulled team/app:sha256-[0-9a-f]{64}\.sig$'
	refute_line --partial "kept"
	# the last-pull policy, from the registry's log: the three pulled
	# (1.1 and stable are one image), the rest never
	assert_line --regexp '^  team/app:1\.1: 2 pull\(s\), the last [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
	assert_line --regexp '^  multi:1: 1 pull\(s\), the last '
	assert_line "  never pulled, marked: base:1"
	refute_line "  never pulled, marked: multi:1"
	work=$(sed -n 's|^Starting docker-registry on 127.0.0.1 with storage in \(.*\)/reg/data \.\.\.$|\1|p' <<<"$output")
	[ -n "$work" ]
	[ ! -e "$work" ]
}

@test "the benchmark's generated tree is real storage: rg-scan and the registry's GC agree" {
	gen=$RG_BIN/../bench/gen-tree
	[ -x "$gen" ] || skip "gen-tree not built"
	run "$gen" -r 9 -t 3 -p 4 "$BATS_TEST_TMPDIR/t"
	assert_success
	run rg-scan "$BATS_TEST_TMPDIR/t"
	assert_success
	assert_equal "$(jq -c 'select(.type == "repo")' <<<"$output" | wc -l)" 9
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 27
	blobs=$(jq -c 'select(.type == "blob")' <<<"$output" | wc -l)
	cat > "$BATS_TEST_TMPDIR/gc.yml" <<-EOF
	version: 0.1
	log: {level: error}
	storage:
	  filesystem: {rootdirectory: $BATS_TEST_TMPDIR/t}
	http: {addr: 127.0.0.1:0}
	EOF
	run docker-registry garbage-collect --dry-run "$BATS_TEST_TMPDIR/gc.yml"
	assert_success
	assert_line "$blobs blobs marked, 0 blobs and 0 manifests eligible for deletion"
}
