# The stress test of tests/stress/live, bounded: a registry taking pushes
# of the layers the cleanup deletes, while rg's pipeline runs back to back
# beside it, in each cache mode, and with rg-rm killed at random moments;
# no tag may be broken, during the runs or at the end.  make stress runs it longer (RG_STRESS_SECONDS).

setup() {
	load helpers
}

stress() {
	local counts
	run "$BATS_TEST_DIRNAME/stress/live" "$RG_BIN" "${RG_STRESS_SECONDS:-12}" "$@"
	counts=$(grep '^stress: ' <<<"$output")
	echo "# $counts" >&3
	assert_success
	[[ "$counts" =~ broken_during=0\ tags_at_end=[0-9]+\ broken_at_end=0$ ]]
	# the cleanup did delete while the pushes went on
	[[ "$counts" =~ deleted=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
}

@test "pushes during the cleanup, no cache: no tag broken" {
	stress none
}

@test "pushes during the cleanup, in-memory cache with --stop and --start: no tag broken" {
	stress inmemory
}

@test "pushes during the cleanup, redis cache: no tag broken" {
	stress redis
}

@test "pushes during the cleanup, every third rg-rm killed at a random moment: no tag broken, nothing left pending" {
	stress none 0s 3
}

@test "pushes during the cleanup, two rg-rm at once each time: one deletes, the other refuses; no tag broken" {
	TWO=1 stress none 0s
	[[ "$(grep '^stress: ' <<<"$output")" =~ refused\ [1-9] ]]
}

@test "pushes during the cleanup, storage on S3, two rg-rm at once each time: the lease lets one delete; no tag broken" {
	STORE=s3 TWO=1 stress none 0s
	[[ "$(grep '^stress: ' <<<"$output")" =~ refused\ [1-9] ]]
}

@test "pushes during the cleanup, storage on S3: no tag broken" {
	# (with rg-rm killed too: make stress; see rg-rm(1), "On S3")
	STORE=s3 stress none 0s
}

@test "pushes during the cleanup, each run's deletions held and restored at once: no tag broken, no push failed but as documented" {
	local line f u
	RESTORE=1 stress none 0s
	line=$(grep '^stress: ' <<<"$output")
	[[ $line =~ put\ back\ [1-9] ]]
	# a push may fail "blob unknown" beside --min-age 0s (rg-rm(1)); no other way
	f=$(sed -n 's/.* failed_pushes=\([0-9]*\) .*/\1/p' <<<"$line")
	u=$(sed -n 's/.*blob unknown: \([0-9]*\)).*/\1/p' <<<"$line")
	[ "$f" = "$u" ]
}
