# rg-select over the scan of a real registry that images were pushed to.

setup_file() {
	load helpers
	registry_start "$BATS_FILE_TMPDIR/reg"
	local L=$BATS_FILE_TMPDIR/layout t
	# the seed's example: clean_old_versions.py on repo/sitor*
	for t in 0.1.0=2015-12-01T00:00:00Z 0.1.1=2016-01-15T00:00:00Z \
		0.1.2=2016-03-01T00:00:00Z 0.1.3=2016-06-25T12:00:00Z \
		0.1.4=2016-07-01T00:00:00Z 0.1.5=2016-08-01T00:00:00Z \
		0.2.0=2016-02-01T00:00:00Z; do
		mkimage "$L" "${t%=*}" amd64 "${t#*=}"
		push "$L:${t%=*}" "repo/sitor-a:${t%=*}"
	done
	push "$L:0.1.5" repo/sitor-a:latest
	push "$L:0.2.0" repo/other:0.1.0
	# tag names ordered as versions, all on one image
	for t in 1.9 1.10 v2.0-rc1 2.0 latest main; do
		push "$L:0.2.0" "ver:$t"
	done
	# untagged manifests: a tag pushed over twice
	push "$L:0.1.0" over:latest
	push "$L:0.1.1" over:latest
	push "$L:0.1.2" over:latest
	# a big one and a small one, for --where size
	mkimage "$L" big amd64 2020-01-01T00:00:00Z "$(head -c 300000 /dev/urandom | base64)"
	push "$L:big" prod/app:big
	push "$L:0.1.0" prod/app:small
	push "$L:0.1.0" prod/app:latest
	rg-scan "$REG_DATA" > "$BATS_FILE_TMPDIR/scan"
}

teardown_file() {
	load helpers
	registry_stop
}

setup() {
	load helpers
	S=$BATS_FILE_TMPDIR/scan
}

# marked REPO: the marked tags of REPO (or of all), "repo:tag" sorted
marked() {
	jq -r --arg r "${1:-}" 'select(.delete == true and ($r == "" or .repo == $r)) |
		"\(.repo):\(.tag // .digest)"' | LC_ALL=C sort
}

@test "the seed's example: keep 2 among the name matches, then the date window" {
	run --separate-stderr bash -c "rg-select --repo '^repo/sitor' --tag '^0\.1\.' --keep 2 \
		--after 2016-01-01T00:00:00 --before 2016-06-25T12:00:00 < '$S'"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.1\nrepo/sitor-a:0.1.2')"
}

@test "every record is written on; unmarked ones byte for byte" {
	rg-select --tag '^0\.1\.1$' < "$S" > "$BATS_TEST_TMPDIR/out"
	assert_equal "$(wc -l < "$BATS_TEST_TMPDIR/out")" "$(wc -l < "$S")"
	diff <(grep -v '"delete":true' "$BATS_TEST_TMPDIR/out") <(grep -v '"tag":"0.1.1"' "$S")
	# the marked ones differ by the mark alone, and which stage set it
	assert_equal "$(grep '"delete":true' "$BATS_TEST_TMPDIR/out" | jq -r .marked_by | sort -u)" \
		"rg-select --tag '^0\.1\.1\$'"
	diff <(grep '"delete":true' "$BATS_TEST_TMPDIR/out" | jq -c 'del(.delete, .marked_by)') \
		<(grep '"tag":"0.1.1"' "$S" | jq -c .)
}

@test "--only: just the marked records" {
	run rg-select -o --tag '^0\.1\.1$' < "$S"
	assert_success
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.1')"
	assert_equal "${#lines[@]}" 1
}

@test "--keep-tag protects whatever else matches" {
	run rg-select -o --repo '^repo/sitor-a$' --keep-tag '^(latest|0\.1\.[0-4])$' < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.5\nrepo/sitor-a:0.2.0')"
}

@test "--keep N alone: per repository, all but the N newest by creation" {
	run rg-select -o --keep 6 < "$S"
	assert_success
	# repo/sitor-a has 8 tags; latest and 0.1.5 are the newest image
	assert_equal "$(marked repo/sitor-a <<<"$output")" "$(printf 'repo/sitor-a:0.1.0\nrepo/sitor-a:0.1.1')"
	assert_equal "$(marked repo/other <<<"$output")" ""
}

@test "--order version: 1.9 < 1.10 < v2.0-rc1 < 2.0; names that are no versions are oldest" {
	run rg-select -o --repo '^ver$' --order version --keep 3 < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'ver:1.9\nver:latest\nver:main')"
	run rg-select -o --repo '^ver$' --order version --keep 5 < "$S"
	assert_equal "$(marked <<<"$output")" "ver:latest"
}

@test "--keep N --group: the N newest of each group a capture names; other tags no candidates" {
	# ver: 1.9 1.10 v2.0-rc1 2.0 latest main; one group per major version
	run rg-select -o --repo '^ver$' --order version --keep 1 --group '^v?([0-9]+)\.' < "$S"
	assert_success
	assert_equal "$(marked <<<"$output")" "$(printf 'ver:1.9\nver:v2.0-rc1')"
	# per minor version (two captures): 1.9 and 1.10 apart, v2.0-rc1 and 2.0 together
	run rg-select -o --repo '^ver$' --order version --keep 1 --group '^v?([0-9]+)\.([0-9]+)' < "$S"
	assert_equal "$(marked <<<"$output")" "ver:v2.0-rc1"
	# from a policy file too
	printf '[semver]\nrepo = ^ver$\norder = version\nkeep = 1\ngroup = ^v?([0-9]+)\\.\n' > "$BATS_TEST_TMPDIR/policies"
	RG_CONFIG=$BATS_TEST_TMPDIR/policies run rg-select -o -p semver < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'ver:1.9\nver:v2.0-rc1')"
}

@test "--order name: byte order, the greatest is the newest" {
	run rg-select -o --repo '^ver$' --order name --keep 4 < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'ver:1.10\nver:1.9')"
}

@test "--older-than on creation time, and --time pushed" {
	# a bare 0 is a duration: zero, as 0s
	run rg-select --older-than 0 < "$S"
	assert_success
	assert_equal "$(sed 's/"marked_by":"[^"]*"//' <<<"$output")" \
		"$(rg-select --older-than 0s < "$S" | sed 's/"marked_by":"[^"]*"//')"
	run rg-select -o --repo '^repo/sitor-a$' --older-than 3650d < "$S"
	assert_equal "$(marked <<<"$output" | wc -l)" 8
	run rg-select -o --repo '^repo/sitor-a$' --older-than 1d --time pushed < "$S"
	assert_equal "$output" ""
	# push times as a registry would have them months ago
	jq -c 'if .type == "tag" and .tag == "0.1.0" then .pushed = "2020-01-01T00:00:00Z" else . end' "$S" |
		rg-select -o --repo '^repo/' --time pushed --before 2021-01-01 > "$BATS_TEST_TMPDIR/out"
	assert_equal "$(marked < "$BATS_TEST_TMPDIR/out")" "$(printf 'repo/other:0.1.0\nrepo/sitor-a:0.1.0')"
}

@test "--after and --before are exclusive; dates in UTC without a zone" {
	run rg-select -o --repo '^repo/sitor-a$' --after 2016-06-25T12:00:00 --before 2016-07-01 < "$S"
	assert_equal "$output" ""
	run rg-select -o --repo '^repo/sitor-a$' --after 2016-06-25T11:59:59 --before 2016-06-25T14:00:01+02:00 < "$S"
	assert_equal "$(marked <<<"$output")" "repo/sitor-a:0.1.3"
}

@test "--untagged: the manifests no tag points at" {
	run rg-select -o --untagged --repo '^over$' < "$S"
	assert_success
	assert_equal "$(jq -r '.tags | length' <<<"$output" | sort -u)" 0
	assert_equal "${#lines[@]}" 2
	assert_equal "$(jq -r .created <<<"$output" | sort | tr '\n' ' ')" \
		"2015-12-01T00:00:00Z 2016-01-15T00:00:00Z "
	run rg-select -o --untagged --repo '^over$' --before 2016-01-01 < "$S"
	assert_equal "$(jq -r .created <<<"$output")" "2015-12-01T00:00:00Z"
	run rg-select -o --untagged over < "$S"
	assert_equal "${#lines[@]}" 2
}

@test "names as arguments: a repository, or one tag" {
	run rg-select -o repo/other < "$S"
	assert_equal "$(marked <<<"$output")" "repo/other:0.1.0"
	run rg-select -o repo/sitor-a:0.1.3 ver:main < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.3\nver:main')"
}

@test "--where: fields, regex, sizes, dates and durations" {
	run rg-select -o --where 'repo =~ "prod" && tag != "latest" && size > 100KB' < "$S"
	assert_equal "$(marked <<<"$output")" "prod/app:big"
	run rg-select -o --where 'repo =~ "prod" && tag != "latest" && size > 100MB' < "$S"
	assert_equal "$output" ""
	run rg-select -o --where 'created < 2016-01-01 || tag == "main"' < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'prod/app:latest\nprod/app:small\nrepo/sitor-a:0.1.0\nver:main')"
	run rg-select -o --where '(created < 2016-01-01 && repo !~ "^(over|prod)") || tag == "main"' < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.0\nver:main')"
	run rg-select -o -w 'age > 3650d && !(tag =~ "^0\.1\.")' -r '^repo/sitor-a$' < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.2.0\nrepo/sitor-a:latest')"
	run rg-select -o -w 'platform.architecture == "amd64"' --untagged < "$S"
	assert_equal "${#lines[@]}" 2
	# a missing field compares false, whatever the operator
	run rg-select -o -w 'nosuchfield != "x"' < "$S"
	assert_equal "$output" ""
}

@test "stages add to the marks; --keep does not count what is already marked" {
	run bash -c "rg-select -t '^0\.1\.5$' -r '^repo/sitor-a$' < '$S' |
		rg-select -r '^repo/sitor-a$' -t '^0\.1\.' --keep 2 | rg-select -o -t '^main$'"
	assert_success
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.0\nrepo/sitor-a:0.1.1\nrepo/sitor-a:0.1.2\nrepo/sitor-a:0.1.5\nver:main')"
}

@test "named policies from RG_CONFIG" {
	cat > "$BATS_TEST_TMPDIR/policies" <<-'EOF'
	# the seed's example, by name
	[sitor]
	repo = ^repo/sitor
	tag = ^0\.1\.
	keep = 2
	after = 2016-01-01T00:00:00
	before = 2016-06-25T12:00:00

	[untagged]
	untagged
	repo = ^over$
	EOF
	RG_CONFIG=$BATS_TEST_TMPDIR/policies run rg-select -o -p sitor < "$S"
	assert_success
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.1\nrepo/sitor-a:0.1.2')"
	RG_CONFIG=$BATS_TEST_TMPDIR/policies run rg-select -o --policy untagged < "$S"
	assert_equal "${#lines[@]}" 2
	# the default place: ~/.config/rg/policies
	mkdir -p "$BATS_TEST_TMPDIR/home/.config/rg"
	cp "$BATS_TEST_TMPDIR/policies" "$BATS_TEST_TMPDIR/home/.config/rg/policies"
	HOME=$BATS_TEST_TMPDIR/home run rg-select -o -p sitor < "$S"
	assert_equal "$(marked <<<"$output")" "$(printf 'repo/sitor-a:0.1.1\nrepo/sitor-a:0.1.2')"
}

@test "policy errors: unknown name, unknown key, missing file; exit 2, nothing on stdout" {
	printf '[a]\nrepo = x\nbogus = 1\n' > "$BATS_TEST_TMPDIR/p"
	RG_CONFIG=$BATS_TEST_TMPDIR/p run --separate-stderr rg-select -p nope < "$S"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "rg-select: $BATS_TEST_TMPDIR/p: no policy named 'nope'"
	RG_CONFIG=$BATS_TEST_TMPDIR/p run --separate-stderr rg-select -p a < "$S"
	assert_equal "$status" 2
	assert_equal "$stderr" "rg-select: $BATS_TEST_TMPDIR/p:3: unknown option 'bogus'"
	RG_CONFIG=$BATS_TEST_TMPDIR/none run --separate-stderr rg-select -p a < "$S"
	assert_equal "$status" 2
	assert_equal "$stderr" "rg-select: $BATS_TEST_TMPDIR/none: No such file or directory"
}

@test "bad arguments: message naming the problem, exit 2, nothing on stdout" {
	check() {
		local expected=$1
		shift
		run --separate-stderr rg-select "$@" < "$S"
		assert_equal "$status" 2
		assert_equal "$output" ""
		assert_equal "$(head -1 <<<"$stderr")" "$expected"
	}
	check "rg-select: --repo: (: at offset 1: missing closing parenthesis" --repo '('
	check "rg-select: --older-than: 90x: not a duration such as 90d, 12h, 2w" --older-than 90x
	check "rg-select: --older-than: 0x: not a duration such as 90d, 12h, 2w" --older-than 0x
	check "rg-select: --before: 2016-13-01: not a date: RFC 3339 or YYYY-MM-DD[THH:MM:SS]" --before 2016-13-01
	check "rg-select: --order: newest: not created, pushed, name or version" --keep 1 --order newest
	check "rg-select: --time: built: not created or pushed" --time built -t x
	check "rg-select: --keep: -1: not a count" --keep -1
	check "rg-select: --where: size > : at offset 7: expected a field, string or number" -w 'size > '
	check "rg-select: --where: (tag == \"x\": at offset 11: expected )" -w '(tag == "x"'
	check "rg-select: --where: tag =~ 5: at offset 7: =~ and !~ take a string: the pattern" -w 'tag =~ 5'
	check "rg-select: --where: size > 5XB: at offset 7: not a number, size, duration or date" -w 'size > 5XB'
	check "rg-select: Bad:1: not a repository or repository:tag name" Bad:1
	check "rg-select: no selection criteria: that would mark every tag"
	check "rg-select: --untagged selects manifests: --tag and --keep-tag do not apply" --untagged -t x
	check "rg-select: --group: counts --keep per group: give --keep N too" --group '(x)'
	check "rg-select: --group: v[0-9]: no capture group: what a pair of parentheses captures names a tag's group" --keep 1 --group 'v[0-9]'
	check "rg-select: --group: given twice: one pattern names the groups" --keep 1 --group '(a)' --group '(b)'
	check "rg-select: --untagged selects manifests: --group groups tags" --untagged --keep 1 --group '(a)'
}

@test "a malformed input line: <stdin>:N, exit 2" {
	run --separate-stderr bash -c "{ head -2 '$S'; echo '{\"type\": tag}'; } | rg-select -t x"
	assert_equal "$status" 2
	assert_equal "$stderr" "rg-select: <stdin>:3: invalid JSON: invalid token near 'tag'"
	run --separate-stderr bash -c "echo '[1]' | rg-select -t x"
	assert_equal "$status" 2
	assert_equal "$stderr" "rg-select: <stdin>:1: not a JSON object"
	# records rg-select passes on are checked too
	for bad in '{"type":"blob","digest":' '{"type":"blob"} x' '{"type":"blob","s":"\q"}' \
		'{"type":"blob","n":01}' '{"type":"blob",}'; do
		run --separate-stderr rg-select -t x <<<"$bad"
		assert_equal "$status" 2
		assert_equal "$output" ""
		[[ "$stderr" == "rg-select: <stdin>:1: invalid JSON: "* ]]
	done
	# a type spelled with escapes is still read, and the line kept as it came
	run rg-select -o -t '^x$' <<<'{"type":"t\u0061g","repo":"r","tag":"x"}'
	assert_output '{"type":"t\u0061g","repo":"r","tag":"x","delete":true,"marked_by":"rg-select -o -t '"'"'^x$'"'"'"}'
	# a record that had "delete" gets it replaced, not twice
	run rg-select -o -t '^x$' <<<'{"type":"tag","repo":"r","tag":"x","delete":false,"n":1}'
	assert_output '{"type":"tag","repo":"r","tag":"x","delete":true,"n":1,"marked_by":"rg-select -o -t '"'"'^x$'"'"'"}'
	# and an earlier stage's marked_by too, when this stage marks it again
	run rg-select -o -t '^x$' <<<'{"type":"tag","repo":"r","tag":"x","delete":false,"marked_by":"rg-select -k 1"}'
	assert_output '{"type":"tag","repo":"r","tag":"x","delete":true,"marked_by":"rg-select -o -t '"'"'^x$'"'"'"}'
}

@test "--keep needs each repository's tags together" {
	run --separate-stderr bash -c "{ grep '\"repo\":\"ver\"' '$S'; grep '\"repo\":\"over\"' '$S'; grep '\"repo\":\"ver\"' '$S'; } | rg-select -k 1 -t x"
	assert_equal "$status" 2
	assert_equal "$stderr" "rg-select: <stdin>:$(( $(grep -c '"repo":"ver"' "$S") + $(grep -c '"repo":"over"' "$S") + 2 )): the tag records of ver are not together: --keep ranks each repository's at once, as rg-scan writes them"
}

@test "empty input, a reader that closes early, a full device" {
	run rg-select -t x < /dev/null
	assert_success
	assert_output ""
	run --separate-stderr bash -c "rg-select -t x < '$S' | head -1"
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr bash -c "rg-select -t x < '$S' > /dev/full"
	assert_equal "$status" 2
	assert_equal "$stderr" "rg-select: stdout: No space left on device"
}

@test "--help, --version" {
	run rg-select --help
	assert_success
	assert_line --index 0 --partial "usage: rg-select"
	run rg-select --version
	assert_output --regexp '^rg-select [0-9.]+$'
}
