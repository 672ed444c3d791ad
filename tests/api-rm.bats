# rg-rm through the registry's HTTP API, on the real registry: a scan of a
# URL is deleted from through the same URL.  After each run the registry
# is pulled from; the storage is then swept with rg's own pipeline.

setup_file() {
	load helpers
	mix_storage "$BATS_FILE_TMPDIR"
}

setup() {
	load helpers
	L=$BATS_FILE_TMPDIR/layout
	mix_copy
}

teardown() {
	registry_stop
	[ -z "${ISSUER_PID:-}" ] || kill "$ISSUER_PID" 2>/dev/null || true
}

pushed() {
	awk -v r="$1" '$1 == r { print $2 }' "$BATS_FILE_TMPDIR/pushed"
}

# every tag pushed, as repo:tag, less those given
pushed_but() {
	cut -d' ' -f1 "$BATS_FILE_TMPDIR/pushed" | grep -vxF -f <(printf '%s\n' "$@") |
		LC_ALL=C sort
}

# the rm records' object, repo, tag or digest, and result: one line each
results() {
	jq -r 'select(.type == "rm") | "\(.object) \(.repo) \(.tag // .digest) \(.result)"' |
		LC_ALL=C sort
}

@test "through the API: one of two tags on a manifest goes alone, a manifest takes its tags, an index its children; then a storage sweep" {
	registry_start "$R"
	rg-scan "http://$REG" | rg-select team/app:1.1 over multi:1 | rg-select --untagged |
		rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(tail -1 <<<"$output" | jq -c '[.type, .root, .tags, .manifests, .bytes]')" \
		"[\"rm-total\",\"http://$REG\",3,4,0]"
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" deleted
	[[ "$stderr" == *"the space of these manifests' blobs comes back when its storage is swept"* ]]
	assert_equal "$(listed)" "$(pushed_but team/app:1.1 over:latest multi:1)"
	# stable shared 1.1's manifest: it still points at it
	assert_equal "$(remote_digest team/app:stable)" "$(pushed team/app:stable)"
	pulls team/app:stable team/app:1.0 team/app:sig-1.0 team:v2 base:1 other/base:1 \
		multi/docker:1 deep/a/b/c:x
	# the index and its children are gone by digest too; multi/docker's stay
	assert_equal "$(jq -r 'select(.type == "rm" and .object == "manifest") | .repo' <<<"$output" | sort | uniq -c | awk '{ print $1, $2 }')" \
		"$(printf '3 multi\n1 over')"
	for d in $(jq -r 'select(.type == "rm" and .repo == "multi") | .digest' <<<"$output"); do
		run curl -fsS -o /dev/null "http://$REG/v2/multi/manifests/$d"
		assert_failure
	done
	# the same plan again: all gone, not an error
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" gone
	registry_stop

	# the storage sweep frees what the API only unlinked, the placeholder's too
	D=$R/data
	before=$(blob_bytes "$D")
	rg-scan "$D" | rg-refs 2>/dev/null | rg-rm --min-age 0s > "$BATS_TEST_TMPDIR/sweep"
	[ "$(tail -1 "$BATS_TEST_TMPDIR/sweep" | jq .bytes)" -gt 0 ]
	assert_equal "$(( before - $(blob_bytes "$D") ))" "$(tail -1 "$BATS_TEST_TMPDIR/sweep" | jq .bytes)"
	gc "$D" --dry-run > "$BATS_TEST_TMPDIR/gc"
	assert_equal "$(grep -c 'eligible for deletion: ' "$BATS_TEST_TMPDIR/gc")" 0
	registry_start "$R"
	assert_equal "$(listed)" "$(pushed_but team/app:1.1 over:latest multi:1)"
	pulls team/app:stable team/app:1.0 team/app:sig-1.0 team:v2 base:1 other/base:1 \
		multi/docker:1 deep/a/b/c:x
}

@test "--dry-run through the API changes nothing, and reports what a real run then does" {
	registry_start "$R"
	sleep 1		# the registry's start-up writes nothing after this
	sum=$(tree_sum "$R/data")
	rg-scan "http://$REG" | rg-select team/app:1.1 over | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -n < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(tree_sum "$R/data")" "$sum"
	[[ "$stderr" == *"rg-rm: would delete: 2 tags, 1 manifests, "*"(dry run: nothing changed)"* ]]
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" would-delete
	dry=$(jq -c 'select(.type == "rm") | del(.result)' <<<"$output")
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -c 'select(.type == "rm") | del(.result)' <<<"$output")" "$dry"
	assert_equal "$(listed)" "$(pushed_but team/app:1.1 over:latest)"
	# the storage's options with a scan through the API: said, nothing deleted
	rg-scan "http://$REG" | rg-select team/app:1.0 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	for opt in "--prune" "--min-age 0s" "--root $R/data" "--config /dev/null" "--stop true --start true"; do
		run --separate-stderr rg-rm $opt < "$BATS_TEST_TMPDIR/plan"
		assert_equal "$opt $status" "$opt 2"
		[[ "$stderr" == "rg-rm: ${opt%% *}"*": the stream is a scan of http://$REG through its API"* ]]
	done
	assert_equal "$(listed)" "$(pushed_but team/app:1.1 over:latest)"
}

@test "pushes since the scan: a manifest a new tag points at stays, its old tag goes alone; a tag pushed over stays" {
	registry_start "$R"
	rg-scan "http://$REG" | rg-select base:1 team/app:1.0 | rg-refs 2>/dev/null \
		> "$BATS_TEST_TMPDIR/plan"
	push "$L:base" base:again		# the manifest of base:1
	push "$L:app2" team/app:1.0		# pushed over
	run --separate-stderr rg-rm -v < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(results <<<"$output")" "$(LC_ALL=C sort <<-EOF
	manifest base $(pushed base:1) kept
	tag base 1 deleted
	tag team/app 1.0 kept
	tag team/app sig-1.0 deleted
	manifest team/app $(pushed team/app:1.0) kept
	manifest team/app $(pushed team/app:sig-1.0) kept
	EOF
	)"
	assert_equal "$(jq -r 'select(.type == "rm" and .repo == "base" and .object == "manifest") | .why' <<<"$output")" \
		"the tag again points at it now"
	assert_equal "$(jq -r 'select(.type == "rm" and .tag == "1.0") | .why' <<<"$output")" \
		"pushed since the scan: it points at another manifest now"
	assert_equal "$(jq -r 'select(.type == "rm" and .repo == "team/app" and .object == "manifest") | .why' <<<"$output" | sort -u)" \
		"the repository's tags changed since the scan"
	[[ "$stderr" == *"rg-rm: kept 4 marked objects"* ]]
	assert_equal "$(remote_digest base:again)" "$(pushed base:1)"
	assert_equal "$(remote_digest team/app:1.0)" "$(pushed team/app:1.1)"
	pulls base:again team/app:1.0 team/app:1.1 other/base:1
	# the kept manifests are still there by digest
	curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REG/v2/team/app/manifests/$(pushed team/app:sig-1.0)"
}

@test "a registry with deletes turned off: each object reported, nothing changed, exit 1; the dry run says so too" {
	REG_DELETE=false registry_start "$R"
	rg-scan "http://$REG" | rg-select team/app:1.1 over | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	# the dry run asks too, and fails as the real run does
	run --separate-stderr rg-rm -n < "$BATS_TEST_TMPDIR/plan"
	assert_failure 1
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" failed
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_failure 1
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" failed
	[[ "$stderr" == *"rg-rm: http://$REG: tag team/app:1.1: a trial DELETE: HTTP 405 UNSUPPORTED (the registry has deletes turned off: storage.delete.enabled)"* ]]
	assert_equal "$(listed)" "$(pushed_but)"
}

@test "marks rg-refs did not approve: the tag goes alone, the manifest is refused" {
	registry_start "$R"
	rg-scan "http://$REG" | rg-select over |
		jq -c 'if .type == "manifest" and .repo == "over" then .delete = true else . end' \
		> "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_failure 1
	assert_equal "$(results <<<"$output")" "$(LC_ALL=C sort <<-EOF
	manifest over $(pushed over:latest) refused
	tag over latest deleted
	EOF
	)"
	assert_equal "$(listed)" "$(pushed_but over:latest)"
	curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REG/v2/over/manifests/$(pushed over:latest)"
	# --root names storage: not for a scan of a URL
	rg-scan "http://$REG" | rg-select team:v2 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan2"
	run --separate-stderr rg-rm --root "$R/data" < "$BATS_TEST_TMPDIR/plan2"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: --root $R/data: the stream is a scan of http://$REG through its API"
}

@test "token auth: rg-rm asks for delete, and push for a placeholder, per repository" {
	t=$BATS_TEST_TMPDIR
	issuer_start "$t" 300
	REG_AUTH=$ISSUER_AUTH registry_start "$R"
	rg-scan -u 'alice:pw d' "http://$REG" | rg-select team/app:1.1 over | rg-refs 2>/dev/null > "$t/plan"
	: > "$t/tokens.log"
	run --separate-stderr env HOME="$t" rg-rm < "$t/plan"
	assert_failure 1
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" failed
	run --separate-stderr env HOME="$t" rg-rm -u 'alice:pw d' < "$t/plan"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output" | sort -u)" deleted
	assert_equal "$(sort -u "$t/tokens.log")" "$(LC_ALL=C sort <<-EOF
	repository:over:delete
	repository:over:pull
	repository:team/app:delete
	repository:team/app:pull
	repository:team/app:pull,push
	EOF
	)"
	rg-scan -u 'alice:pw d' "http://$REG" > "$t/after"
	assert_equal "$(jq -r 'select(.type == "tag") | .repo + ":" + .tag' "$t/after" | LC_ALL=C sort)" \
		"$(pushed_but team/app:1.1 over:latest)"
	assert_equal "$(jq -r 'select(.type == "tag" and .tag == "stable") | .digest' "$t/after")" \
		"$(pushed team/app:stable)"
}

@test "the placeholder's DELETE refused: the tag is put back where it was, exit 1" {
	registry_start "$R"
	# every manifest DELETE by digest refused, but the trial of deletes
	proxy_start "$REG" "" "$BATS_TEST_TMPDIR/log" '^DELETE .*/manifests/sha256:(?!0{64})'
	rg-scan "http://$PROXY" | rg-select team/app:1.1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	kill "$PROXY_PID"
	assert_failure 1
	assert_equal "$(jq -r 'select(.type == "rm") | .result' <<<"$output")" failed
	[[ "$(jq -r 'select(.type == "rm") | .why' <<<"$output")" == *"HTTP 403 DENIED; the tag was put back" ]]
	# the trial of DELETE by tag could not clean up after itself: said so
	[[ "$stderr" == *"the trial manifest sha256:"*" stays: "*"HTTP 403 DENIED"* ]]
	assert_equal "$(remote_digest team/app:1.1)" "$(pushed team/app:1.1)"
	assert_equal "$(remote_digest team/app:stable)" "$(pushed team/app:stable)"
	assert_equal "$(listed | grep -v '^team/app:rg-trial-')" "$(pushed_but)"
	pulls team/app:1.1 team/app:stable
}
