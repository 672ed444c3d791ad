# The scripts in examples/, the demo and the benchmark's tree generator, run
# for real.

setup_file() {
	load helpers
	registry_start "$BATS_FILE_TMPDIR/reg"
	push_mix "$BATS_FILE_TMPDIR"
}

teardown_file() {
	load helpers
	registry_stop
}

setup() {
	load helpers
	EX=$BATS_TEST_DIRNAME/../examples
}

@test "examples pass shellcheck" {
	run shellcheck "$EX"/*
	assert_success
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

@test "make demo's script: starts a registry, pushes, reports, cleans up" {
	run "$BATS_TEST_DIRNAME/demo" "$RG_BIN"
	assert_success
	assert_line --regexp '^  8 repositories, 11 tags, 16 manifests, [0-9]+ blobs holding'
	assert_line --regexp '^over +1 +3 +2  2021-04-01T00:00:00Z$'
	[[ "$(sed -n '/^marks:$/{n;p;}' <<<"$output")" =~ ^\ \ team/app:1\.0\ \ created\ 2021-02-01T00:00:00Z\ \ [0-9]+\ bytes$ ]]
	assert_equal "$(sed -n '/^marks:$/,/^$/p' <<<"$output" | wc -l)" 3
	assert_line --regexp '^  rg-refs: to delete: 2 tags, 4 manifests, [0-9]+ layer links, [0-9]+ blobs \([0-9]+ bytes\), 0 uploads \(0 bytes\)$'
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
