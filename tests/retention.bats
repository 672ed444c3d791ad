# Retention users ask for (issue 15): what an image says of itself, on a
# real registry: the config's labels and the manifest's annotations in the
# scan (storage and API alike), --where on them, and Quay's expiry label.

setup_file() {
	load helpers
	registry_start "$BATS_FILE_TMPDIR/reg"
	local L=$BATS_FILE_TMPDIR/layout
	mkimage "$L" old amd64 2020-01-01T00:00:00Z
	umoci config --image "$L:old" --config.label quay.expires-after=2w \
		--config.label org.opencontainers.image.version=1.0 \
		--config.label team=web \
		--manifest.annotation org.opencontainers.image.source=https://example.com/app >/dev/null
	mkimage "$L" new amd64 "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	umoci config --image "$L:new" --config.label quay.expires-after=2w \
		--config.label team=db >/dev/null
	mkimage "$L" plain amd64 2020-01-01T00:00:00Z
	push "$L:old" app:old
	push "$L:new" app:new
	push "$L:plain" app:plain
	rg-scan "$REG_DATA" > "$BATS_FILE_TMPDIR/scan"
	rg-scan -j 1 "http://$REG" > "$BATS_FILE_TMPDIR/api"
}

teardown_file() {
	load helpers
	registry_stop
}

setup() {
	load helpers
	S=$BATS_FILE_TMPDIR/scan
}

@test "labels and annotations: in manifest and tag records, from storage and the API alike" {
	run jq -c 'select(.type == "tag" and .tag == "old") | [.labels.team, .labels."quay.expires-after", .annotations."org.opencontainers.image.source"]' "$S"
	assert_output '["web","2w","https://example.com/app"]'
	run jq -c 'select(.type == "manifest" and .tags == ["old"]) | .labels."org.opencontainers.image.version"' "$S"
	assert_output '"1.0"'
	# an image without labels has no such fields
	run jq -c 'select(.tag == "plain") | [has("labels"), has("annotations")]' "$S"
	assert_output '[false,false]'
	# the API scan says the same of them
	assert_equal "$(jq -c 'select(.type == "tag") | [.tag, .labels, .annotations]' "$BATS_FILE_TMPDIR/api" | sort)" \
		"$(jq -c 'select(.type == "tag") | [.tag, .labels, .annotations]' "$S" | sort)"
}

@test "--where reaches labels, keys with dots quoted" {
	run rg-select -o -w 'labels.team == "web"' < "$S"
	assert_success
	assert_equal "$(jq -r 'select(.delete == true) | .tag' <<<"$output")" old
	run rg-select -o -w 'labels."org.opencontainers.image.version" == "1.0"' < "$S"
	assert_equal "$(jq -r 'select(.delete == true) | .tag' <<<"$output")" old
	run --separate-stderr rg-select -w 'labels.' < "$S"
	assert_failure 2
	assert_equal "$stderr" "rg-select: --where: labels.: at offset 7: expected a key after the dot"
}

@test "--expires: Quay's quay.expires-after (2w after created) has passed for old only" {
	run rg-select -o --expires < "$S"
	assert_success
	assert_equal "$(jq -r 'select(.delete == true) | .tag' <<<"$output")" old
	# another label, holding a date; the label alone is a usage error
	run rg-select -o --expires --expires-label team < "$S"
	assert_equal "$(jq -r 'select(.delete == true) | .tag' <<<"$output")" ""
	run --separate-stderr rg-select --expires-label team < "$S"
	assert_failure 2
	# the whole pipeline: old's manifest goes, new and plain stay
	run --separate-stderr bash -c "rg-select --expires < '$S' | rg-refs | rg-rm -n --min-age 0s"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm" and .object == "tag") | .tag' <<<"$output")" old
}

@test "-v says why each record was marked; marked_by and the reason reach rg-rm's audit records" {
	run --separate-stderr bash -c "rg-select -v --expires < '$S' | rg-select -v --keep 1 --order created --where 'labels.team == \"db\" || !labels' | rg-refs | rg-rm -n --min-age 0s"
	assert_success
	assert_equal "$(grep '^rg-select:' <<<"$stderr")" "rg-select: tag app:old marked: expiry label quay.expires-after=2w passed
rg-select: tag app:plain marked: newest but 1 by created, beyond --keep 1; --where held"
	local out=$output
	# each stage's mark says which stage and policy it was
	run jq -r 'select(.type == "rm" and .object == "tag") | "\(.tag)\t\(.reason)\t\(.marked_by)"' <<<"$out"
	assert_output "old	selected	rg-select -v --expires
plain	selected	rg-select -v --keep 1 --order created --where 'labels.team == \"db\" || !labels'"
	# what rg-refs adds has its reason, and no marked_by
	run jq -r 'select(.type == "rm" and .object == "manifest") | "\(.reason) \(has("marked_by"))"' <<<"$out"
	assert_output "untagged-by-tag-deletion false
untagged-by-tag-deletion false"
}

@test "marked_by: a named policy says its name; an argument with a quote is quoted back" {
	printf '[old-web]\nwhere = labels.team == "web"\n' > "$BATS_TEST_TMPDIR/policies"
	run --separate-stderr env RG_CONFIG="$BATS_TEST_TMPDIR/policies" rg-select -o -p old-web < "$S"
	assert_success
	assert_equal "$(jq -r 'select(.delete) | .marked_by' <<<"$output")" "rg-select -o -p old-web"
	run --separate-stderr rg-select -o -w "tag == 'old'" < "$S"
	assert_equal "$(jq -r 'select(.delete) | .marked_by' <<<"$output")" "rg-select -o -w 'tag == '\\''old'\\'''"
}
