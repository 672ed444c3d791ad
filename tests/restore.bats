# rg-rm --quarantine and rg-restore on a real registry's storage: what a
# policy deleted is held, put back, and pulls byte for byte as before.

setup_file() {
	load helpers
	mix_storage "$BATS_FILE_TMPDIR"
	sleep 1		# rg-rm keeps what was written in the second of the scan
}

setup() {
	load helpers
	mix_copy
	D=$R/data
	V2=$D/docker/registry/v2
	L=$BATS_FILE_TMPDIR/layout
}

teardown() {
	registry_stop
	[ -z "${REDIS_PID:-}" ] || { kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; }
}

# the digest each tag of REF... names, through the API
digests() {
	local ref
	for ref in "$@"; do
		echo "$ref $(remote_digest "$ref")"
	done
}

# the files of the storage and their sizes and contents, the trash aside
tree() {
	(cd "$1/docker/registry/v2" && find . -path ./.rg-trash -prune -o -type f -print0 |
		LC_ALL=C sort -z | xargs -0 sha256sum)
}

@test "--quarantine: a wrong policy's deletions are held; rg-restore puts them back and they pull as before" {
	local tags="team/app:1.0 team/app:1.1 base:1 other/base:1 multi:1 multi/docker:1"
	registry_start "$R"
	digests $tags > "$BATS_TEST_TMPDIR/before"
	registry_stop
	tree "$D" > "$BATS_TEST_TMPDIR/tree.before"
	rg-scan "$D" | rg-select -t '^1' | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm --min-age 0s --quarantine 7d < "$BATS_TEST_TMPDIR/plan"
	assert_success
	echo "$output" > "$BATS_TEST_TMPDIR/audit"
	run_id=$(tail -1 "$BATS_TEST_TMPDIR/audit" | jq -r .run)
	[[ $run_id =~ ^[0-9a-f]{32}$ ]]
	# every record names the run; the summary says where it is held, how long
	[ "$(jq -s '[.[] | select(.type == "rm" and .run != $r)] | length' --arg r "$run_id" "$BATS_TEST_TMPDIR/audit")" -eq 0 ]
	[[ $stderr == *"rg-restore --run $run_id puts it back"* ]]
	[ -d "$V2/.rg-trash/quarantine/$run_id" ]
	registry_start "$R"
	run skopeo inspect --raw --tls-verify=false "docker://$REG/team/app:1.0"
	assert_failure
	registry_stop
	# a dry run changes nothing
	tree "$D" > "$BATS_TEST_TMPDIR/tree.deleted"
	run --separate-stderr rg-restore -n < "$BATS_TEST_TMPDIR/audit"
	assert_success
	[ "$(jq -s '[.[] | select(.result == "would-restore")] | length' <<<"$output")" -eq \
		"$(jq -s '[.[] | select(.type == "rm" and .result == "deleted" and .object != "repository")] | length' "$BATS_TEST_TMPDIR/audit")" ]
	diff "$BATS_TEST_TMPDIR/tree.deleted" <(tree "$D")
	# the restore: blobs first, tags last; the storage as it was
	run --separate-stderr rg-restore < "$BATS_TEST_TMPDIR/audit"
	assert_success
	assert_equal "$(jq -r .object <<<"$output" | uniq | tr '\n' ' ')" "blob layer manifest tag "
	[ "$(jq -s '[.[] | select(.result != "restored")] | length' <<<"$output")" -eq 0 ]
	diff "$BATS_TEST_TMPDIR/tree.before" <(tree "$D")
	registry_start "$R"
	diff "$BATS_TEST_TMPDIR/before" <(digests $tags)
	pulls $tags
	# once more: each is there again, nothing changes
	registry_stop
	run --separate-stderr rg-restore < "$BATS_TEST_TMPDIR/audit"
	assert_success
	[ "$(jq -s '[.[] | select(.result != "skipped")] | length' <<<"$output")" -eq 0 ]
}

@test "a tag pushed again after its deletion stays as pushed; the rest comes back" {
	rg-scan "$D" | rg-select team/app:1.0 team/app:1.1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	rg-rm --min-age 0s --quarantine 1d < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2>/dev/null
	registry_start "$R"
	push "$L:plain" team/app:1.0		# another image, under the same tag
	new=$(remote_digest team/app:1.0)
	registry_stop
	run --separate-stderr rg-restore < "$BATS_TEST_TMPDIR/audit"
	assert_success
	assert_equal "$(jq -r 'select(.object == "tag") | .tag + " " + .result' <<<"$output" | LC_ALL=C sort)" \
		"$(printf '1.0 skipped\n1.1 restored\nsig-1.0 restored')"	# (1.0's signature went with it)
	registry_start "$R"
	assert_equal "$(remote_digest team/app:1.0)" "$new"
	pulls team/app:1.0 team/app:1.1 team/app:stable
}

@test "an ended quarantine is removed by the next run (its bytes said) or --purge-quarantine; rg-restore then says gone, exit 1" {
	rg-scan "$D" | rg-select base:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	rg-rm --min-age 0s --quarantine 1s < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2>/dev/null
	run_id=$(tail -1 "$BATS_TEST_TMPDIR/audit" | jq -r .run)
	sleep 2
	run --separate-stderr rg-rm --purge-quarantine -r "$D"
	assert_success
	[[ $stderr == *"quarantine/$run_id: the quarantine of the run of "*" ended: "*" objects, "*" bytes freed"* ]]
	[ ! -e "$V2/.rg-trash/quarantine/$run_id" ]
	run --separate-stderr rg-restore < "$BATS_TEST_TMPDIR/audit"
	assert_failure 1
	[ "$(jq -s '[.[] | select(.result != "gone")] | length' <<<"$output")" -eq 0 ]
	# --older-than removes a quarantine that has not ended
	rg-scan "$D" | rg-select other/base:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	rg-rm --min-age 0s --quarantine 7d < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2>/dev/null
	run_id=$(tail -1 "$BATS_TEST_TMPDIR/audit" | jq -r .run)
	run --separate-stderr rg-rm --purge-quarantine -r "$D"
	assert_success
	[ -d "$V2/.rg-trash/quarantine/$run_id" ]
	run --separate-stderr rg-rm --purge-quarantine --older-than 0s -r "$D"
	assert_success
	[ ! -e "$V2/.rg-trash/quarantine/$run_id" ]
	run --separate-stderr rg-rm --older-than 1d -r "$D"
	assert_failure 2
}

@test "rg-restore --run: a whole run, a pruned repository back in the catalog" {
	rg-scan "$D" | rg-select deep/a/b/c:x | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	rg-rm --min-age 0s --prune --quarantine 7d < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2>/dev/null
	run_id=$(tail -1 "$BATS_TEST_TMPDIR/audit" | jq -r .run)
	[ ! -e "$V2/repositories/deep" ]
	run --separate-stderr rg-restore --run "$run_id" -r "$D"
	assert_success
	[ "$(jq -s '[.[] | select(.result == "restored")] | length' <<<"$output")" -gt 0 ]
	registry_start "$R"
	curl -fsS "http://$REG/v2/_catalog" | jq -e '.repositories | index("deep/a/b/c")'
	pulls deep/a/b/c:x
}

@test "what a held image needs, deleted since by a run without quarantine: it stays held, said gone (what is missing named), exit 1; no tag is put back broken" {
	# base:1's blobs stay when base:1 goes (other/base:1 has them); then other/base:1 goes for good
	rg-scan "$D" | rg-select base:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	rg-rm --min-age 0s --quarantine 7d < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2>/dev/null
	run_id=$(tail -1 "$BATS_TEST_TMPDIR/audit" | jq -r .run)
	[ "$(jq -s '[.[] | select(.object == "blob" and .result == "deleted")] | length' "$BATS_TEST_TMPDIR/audit")" -eq 0 ]
	rg-scan "$D" | rg-select other/base:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan2"
	rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan2" > "$BATS_TEST_TMPDIR/audit2" 2>/dev/null
	[ "$(jq -s '[.[] | select(.object == "blob" and .result == "deleted")] | length' "$BATS_TEST_TMPDIR/audit2")" -gt 0 ]
	tree "$D" > "$BATS_TEST_TMPDIR/tree.before"
	for dry in -n ""; do
		run --separate-stderr rg-restore $dry --run "$run_id" -r "$D"
		assert_failure 1
		# the manifest and its tag stay held; a layer link whose data is there may go back
		[ "$(jq -s '[.[] | select(.object != "layer" and .result != "gone")] | length' <<<"$output")" -eq 0 ]
		jq -s -e '[.[] | select(.object == "tag")] | length == 1 and .[0].tag == "1"' <<<"$output"
		jq -s -e 'map(select(.object != "layer")) | length > 1 and all(.why | test("^the (data of blob|revision link of) sha256:[0-9a-f]{64}( in base)? is gone$"))' <<<"$output"
		[ -z "$dry" ] || diff "$BATS_TEST_TMPDIR/tree.before" <(tree "$D")
	done
	[ -d "$V2/.rg-trash/quarantine/$run_id" ]		# still held
	registry_start "$R"
	for t in $(listed); do
		pulls "$t"
	done
	! listed | grep -qx 'base:1'
}

@test "rg-restore killed at each rename (SIGKILL): no tag ever points at missing content, and a rerun finishes" {
	local at tags="team/app:1.0 team/app:1.1 base:1 multi:1"
	rg-scan "$D" | rg-select team/app:1.0 team/app:1.1 base:1 multi:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	rg-rm --min-age 0s --quarantine 7d < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2>/dev/null
	for at in 1 3 6 10 15 20; do
		strace -f -o /dev/null -e trace=renameat2 -e inject=renameat2:signal=KILL:when=$at \
			rg-restore < "$BATS_TEST_TMPDIR/audit" > /dev/null 2>&1 || true
		# every tag there now pulls whole
		registry_start "$R"
		for t in $(listed); do
			pulls "$t"
		done
		registry_stop
	done
	run --separate-stderr rg-restore < "$BATS_TEST_TMPDIR/audit"
	assert_success
	registry_start "$R"
	pulls $tags
}

@test "with the registry's redis cache: a restored image pulls at once, the registry running throughout" {
	redis_start
	REG_CACHE=redis REG_REDIS=127.0.0.1:$REDIS_PORT registry_start "$R"
	pulls team/app:1.0 base:1
	sleep 1
	rg-scan "$D" | rg-select team/app:1.0 base:1 | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -c "$REG_CONFIG" --min-age 0s --quarantine 7d < "$BATS_TEST_TMPDIR/plan"
	assert_success
	echo "$output" > "$BATS_TEST_TMPDIR/audit"
	[ "$(jq -s '[.[] | select(.object == "blob" and .result == "deleted")] | length' "$BATS_TEST_TMPDIR/audit")" -gt 0 ]
	run pulls team/app:1.0
	assert_failure
	run --separate-stderr rg-restore < "$BATS_TEST_TMPDIR/audit"
	assert_success
	pulls team/app:1.0 base:1 other/base:1
}
