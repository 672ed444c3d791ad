# rg-scan over the storage of a real registry that images were pushed to.

setup_file() {
	load helpers
	registry_start "$BATS_FILE_TMPDIR/reg"
	push_mix "$BATS_FILE_TMPDIR"
	local status=0
	rg-scan "$REG_DATA" > "$BATS_FILE_TMPDIR/scan" 2> "$BATS_FILE_TMPDIR/scan.err" || status=$?
	echo "$status" > "$BATS_FILE_TMPDIR/scan.status"
}

teardown_file() {
	load helpers
	registry_stop
}

setup() {
	load helpers
	S=$BATS_FILE_TMPDIR/scan
}

# a private copy of the pushed storage, to break on purpose
copy_storage() {
	COPY=$BATS_TEST_TMPDIR/copy
	cp -a "$REG_DATA" "$COPY"
	CV2=$COPY/docker/registry/v2
}

@test "scan of the pushed mix: exit 0, nothing on stderr, one JSON object per line" {
	[ "$(cat "$BATS_FILE_TMPDIR/scan.status")" = 0 ]
	[ ! -s "$BATS_FILE_TMPDIR/scan.err" ]
	run jq -e 'type == "object"' "$S"
	assert_success
	# compact, one record per line: exactly what jq -c makes of it
	diff <(jq -c . "$S") "$S"
}

@test "the first record says where and when the scan was taken" {
	run head -1 "$S"
	run jq -r '[.type, .source, .root, .format] | @tsv' <<<"$output"
	assert_output "$(printf 'scan\tstorage\t%s\t1' "$(cd "$REG_DATA" && pwd -P)/docker/registry/v2")"
	run jq -r 'select(.type == "scan") | .time' "$S"
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
}

@test "every pushed tag is listed with the digest the registry serves" {
	run jq -r 'select(.type == "tag") | "\(.repo):\(.tag) \(.digest)"' "$S"
	assert_equal "$(sort <<<"$output")" "$(sort "$BATS_FILE_TMPDIR/pushed")"
}

@test "repositories: nested, and a repository that is also a namespace" {
	run jq -r 'select(.type == "repo") | .repo' "$S"
	assert_output "$(printf '%s\n' base deep/a/b/c multi multi/docker other/base over team team/app)"
}

@test "tag records: push time from the current link, created from the config" {
	run jq -r 'select(.type == "tag" and .repo == "team/app" and .tag == "1.0") |
		[.created, .media_type] | @tsv' "$S"
	assert_output "$(printf '2021-02-01T00:00:00Z\tapplication/vnd.oci.image.manifest.v1+json')"
	link=$(v2)/repositories/team/app/_manifests/tags/1.0/current/link
	run jq -r 'select(.type == "tag" and .repo == "team/app" and .tag == "1.0") | .pushed' "$S"
	assert_output "$(date -u -d "@$(stat -c %Y "$link")" +%Y-%m-%dT%H:%M:%SZ)"
}

@test "manifest records: media type, tags, blobs from the manifest itself" {
	d=$(awk '$1 == "team/app:1.1" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	hex=${d#sha256:}
	blob=$(v2)/blobs/sha256/${hex:0:2}/$hex/data
	run jq -c --arg d "$d" 'select(.type == "manifest" and .repo == "team/app" and
		.digest == $d) | [.tags, .blobs, .manifests, .size, .media_type]' "$S"
	assert_output "$(jq -c --argjson s "$(stat -c %s "$blob")" \
		'[["1.1", "stable"], [.config.digest] + [.layers[].digest], [], $s,
		(.mediaType // "application/vnd.oci.image.manifest.v1+json")]' "$blob")"
}

@test "manifest push time: the revision link's mtime" {
	d=$(awk '$1 == "base:1" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	link=$(v2)/repositories/other/base/_manifests/revisions/sha256/${d#sha256:}/link
	run jq -r --arg d "$d" 'select(.type == "manifest" and .repo == "other/base") | .pushed' "$S"
	assert_output "$(date -u -d "@$(stat -c %Y "$link")" +%Y-%m-%dT%H:%M:%SZ)"
}

@test "Docker schema 2 pushed with --format v2s2" {
	run jq -r 'select(.type == "manifest" and .repo == "team") |
		[.media_type, .created, .platform.architecture] | @tsv' "$S"
	assert_output "$(printf 'application/vnd.docker.distribution.manifest.v2+json\t2020-06-01T12:30:00Z\tamd64')"
}

@test "a tag pushed over three times: three revisions, only the last tagged" {
	run jq -c 'select(.type == "manifest" and .repo == "over") | .tags' "$S"
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" '["latest"] [] [] '
	run jq -r 'select(.type == "manifest" and .repo == "over" and .tags == []) | .created' "$S"
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" '2021-02-01T00:00:00Z 2021-03-01T00:00:00Z '
}

@test "OCI index: children with platforms, created from the newest child" {
	d=$(awk '$1 == "multi:1" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	run jq -r --arg d "$d" 'select(.type == "manifest" and .digest == $d) |
		[.media_type, .created, (.manifests | length), (.blobs | length)] | @tsv' "$S"
	assert_output "$(printf 'application/vnd.oci.image.index.v1+json\t2022-01-02T00:00:00Z\t2\t0')"
	run jq -r --arg d "$d" '
		[inputs | select(.type == "manifest" and .repo == "multi")] as $m |
		($m[] | select(.digest == $d) | .manifests) as $kids |
		$m[] | select(.digest as $x | $kids | index($x)) |
		"\(.platform.architecture) \(.tags | length)"' -n "$S"
	assert_equal "$(sort <<<"$output")" "$(printf 'amd64 0\narm64 0')"
}

@test "Docker manifest list" {
	run jq -r 'select(.type == "manifest" and .repo == "multi/docker" and .tags == ["1"]) |
		[.media_type, (.manifests | length)] | @tsv' "$S"
	assert_output "$(printf 'application/vnd.docker.distribution.manifest.list.v2+json\t2')"
}

@test "OCI artifact with subject and artifactType" {
	subject=$(awk '$1 == "team/app:1.0" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	run jq -r --arg d "$(cat "$BATS_FILE_TMPDIR/artifact")" \
		'select(.type == "manifest" and .digest == $d) | [.subject, .artifact_type] | @tsv' "$S"
	assert_output "$(printf '%s\tapplication/vnd.example.signature' "$subject")"
}

@test "the same image in two repositories: one manifest in each, blobs listed once" {
	d=$(awk '$1 == "base:1" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	run jq -r --arg d "$d" 'select(.type == "manifest" and .digest == $d) | .repo' "$S"
	assert_output "$(printf 'base\nother/base')"
	run jq -r 'select(.type == "blob") | .digest' "$S"
	[ "$(sort <<<"$output" | uniq -d)" = "" ]
}

@test "every blob on disk, with its size and mtime; layer links per repository" {
	run jq -r 'select(.type == "blob") | "\(.digest[7:]) \(.size) \(.modified)"' "$S"
	expected=$(cd "$(v2)/blobs/sha256" && for f in */*/data; do
		h=${f#*/}; h=${h%/data}
		echo "$h $(stat -c %s "$f") $(date -u -d "@$(stat -c %Y "$f")" +%Y-%m-%dT%H:%M:%SZ)"
	done | sort)
	assert_output "$expected"
	run jq -r 'select(.type == "layer") | "\(.repo) \(.digest[7:])"' "$S"
	assert_output "$(cd "$(v2)/repositories" && find . -path '*/_layers/sha256/*/link' |
		sed 's|^\./||; s|/_layers/sha256/| |; s|/link$||' | sort)"
}

@test "tag size: the image's manifest, config and layers; index: every child too" {
	d=$(awk '$1 == "base:1" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	hex=${d#sha256:}
	blob=$(v2)/blobs/sha256/${hex:0:2}/$hex/data
	expected=$(( $(stat -c %s "$blob") + $(jq '[.config.size, .layers[].size] | add' "$blob") ))
	run jq -r 'select(.type == "tag" and .repo == "base") | .size' "$S"
	assert_output "$expected"
	run jq -r '[inputs | select(.repo == "multi" and .type == "manifest")] |
		(map(select(.tags == [])) | map(.image_size) | add) as $kids |
		(.[] | select(.tags == ["1"]) | .image_size - .size) == $kids' -n "$S"
	assert_output true
}

@test "--repo limits the walk to matching repositories; blobs are still listed" {
	run rg-scan --repo '^team' "$REG_DATA"
	assert_success
	run jq -r 'select(.type == "repo") | .repo' <<<"$output"
	assert_output "$(printf 'team\nteam/app')"
	[ "$(rg-scan -r '^team' "$REG_DATA" | jq -c 'select(.type == "blob")')" = \
	  "$(jq -c 'select(.type == "blob")' "$S")" ]
}

@test "ROOT may be the rootdirectory, its docker/registry/v2, or REGISTRY_DATA_DIR" {
	a=$(rg-scan "$REG_DATA" | jq -c 'select(.type != "scan")' | sort | md5sum)
	b=$(rg-scan "$(v2)" | jq -c 'select(.type != "scan")' | sort | md5sum)
	c=$(REGISTRY_DATA_DIR=$(v2) rg-scan | jq -c 'select(.type != "scan")' | sort | md5sum)
	[ "$a" = "$b" ]
	[ "$a" = "$c" ]
}

@test "two scans: the same records, each repository's and the blobs in the same order" {
	rg-scan "$REG_DATA" > "$BATS_TEST_TMPDIR/a"
	rg-scan "$REG_DATA" > "$BATS_TEST_TMPDIR/b"
	for f in a b; do
		jq -c 'select(.type != "scan" and .type != "blob")' "$BATS_TEST_TMPDIR/$f" > "$BATS_TEST_TMPDIR/$f.repos"
		jq -c 'select(.type == "blob")' "$BATS_TEST_TMPDIR/$f" > "$BATS_TEST_TMPDIR/$f.blobs"
	done
	cmp "$BATS_TEST_TMPDIR/a.repos" "$BATS_TEST_TMPDIR/b.repos"
	cmp "$BATS_TEST_TMPDIR/a.blobs" "$BATS_TEST_TMPDIR/b.blobs"
	# blobs in digest order
	jq -r .digest "$BATS_TEST_TMPDIR/a.blobs" | LC_ALL=C sort -c
}

@test "empty storage: a registry that never saw a push" {
	mkdir "$BATS_TEST_TMPDIR/empty"
	run rg-scan "$BATS_TEST_TMPDIR/empty"
	assert_success
	assert_equal "$(jq -r .type <<<"$output")" "$(printf 'scan\nscan-end')"
	assert_equal "$(tail -1 <<<"$output")" '{"type":"scan-end","complete":true}'
}

@test "empty storage of a registry that was started and saw a push deleted" {
	mkdir -p "$BATS_TEST_TMPDIR/e/docker/registry/v2/repositories" "$BATS_TEST_TMPDIR/e/docker/registry/v2/blobs"
	run rg-scan "$BATS_TEST_TMPDIR/e"
	assert_success
	assert_equal "$(jq -r .type <<<"$output")" "$(printf 'scan\nscan-end')"
}

@test "missing ROOT: exit 2, message names it, nothing on stdout" {
	run --separate-stderr rg-scan "$BATS_TEST_TMPDIR/nope"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "rg-scan: $BATS_TEST_TMPDIR/nope: No such file or directory"
}

@test "a directory that is not registry storage: exit 2" {
	mkdir "$BATS_TEST_TMPDIR/other"
	touch "$BATS_TEST_TMPDIR/other/file"
	run --separate-stderr rg-scan "$BATS_TEST_TMPDIR/other"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "rg-scan: $BATS_TEST_TMPDIR/other: not registry storage: no docker/registry/v2, repositories or blobs directory"
}

@test "usage errors: exit 2 and the synopsis; --help on stdout, exit 0" {
	usage="usage: rg-scan [-r regex] [root]
       rg-scan [-r regex] -c config.yml
       rg-scan [-k] [-e endpoint] [-j jobs] [-r regex] [--cacert file]
               s3://bucket[/rootdir]
       rg-scan [-k] [-j jobs] [-r regex] [-u user[:password]] [--cacert file]
               [--cert file --key file] [--page-size n]
               [--password-file file | --password-stdin] [--plain-http] url"
	run --separate-stderr rg-scan --bogus
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "$(printf "rg-scan: unrecognized option '--bogus'\n%s" "$usage")"
	run --separate-stderr rg-scan a b
	assert_equal "$status" 2
	assert_equal "$stderr" "$usage"
	run --separate-stderr rg-scan --help
	assert_success
	assert_output "$usage"
	run --separate-stderr rg-scan --repo '(' "$REG_DATA"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "rg-scan: --repo: (: at offset 1: missing closing parenthesis"
	# the API's options with a storage: said, not ignored
	run --separate-stderr rg-scan -j 8 -k -u bob "$REG_DATA"
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "rg-scan: --jobs: applies to a scan of a registry's URL, not of its storage"
	for opt in "-k" "-u bob" "--cacert /dev/null" "--page-size 10"; do
		run --separate-stderr rg-scan $opt "$REG_DATA"
		assert_equal "$opt $status" "$opt 2"
		[[ "$stderr" == "rg-scan: --"*": applies to a scan of a registry's URL, not of its storage" ]]
	done
}

@test "a truncated link: one warning naming it, the scan goes on, exit 1" {
	copy_storage
	link=$CV2/repositories/team/app/_manifests/tags/1.0/current/link
	head -c 30 "$link" > "$link.new" && mv "$link.new" "$link"
	run --separate-stderr rg-scan "$COPY"
	assert_equal "$status" 1
	assert_equal "$stderr" "rg-scan: $CV2/repositories/team/app/_manifests/tags/1.0/current/link: corrupt link: not sha256:<64 hex>"
	# everything else is there
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" \
		"$(( $(wc -l < "$BATS_FILE_TMPDIR/pushed") - 1 ))"
	assert_equal "$(jq -c 'select(.type == "blob")' <<<"$output" | wc -l)" \
		"$(jq -c 'select(.type == "blob")' "$S" | wc -l)"
}

@test "an empty revision link and a layer link naming another digest" {
	copy_storage
	latest=$(awk '$1 == "over:latest" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	rev=$(ls "$CV2/repositories/over/_manifests/revisions/sha256" | grep -v "${latest#sha256:}" | head -1)
	: > "$CV2/repositories/over/_manifests/revisions/sha256/$rev/link"
	lay=$(ls "$CV2/repositories/base/_layers/sha256" | head -1)
	printf 'sha256:%064d' 0 > "$CV2/repositories/base/_layers/sha256/$lay/link"
	run --separate-stderr rg-scan "$COPY"
	assert_equal "$status" 1
	assert_equal "$(sort <<<"$stderr")" "$(sort <<-EOF
	rg-scan: $CV2/repositories/over/_manifests/revisions/sha256/$rev/link: corrupt link: not sha256:<64 hex>
	rg-scan: $CV2/repositories/base/_layers/sha256/$lay/link: names another digest, ignored
	EOF
	)"
	assert_equal "$(jq -c 'select(.type == "manifest" and .repo == "over")' <<<"$output" | wc -l)" 2
}

@test "a manifest that does not parse: warning, record with the error, exit 1" {
	copy_storage
	d=$(awk '$1 == "deep/a/b/c:x" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	hex=${d#sha256:}
	blob=$CV2/blobs/sha256/${hex:0:2}/$hex/data
	echo 'not json' > "$blob"
	run --separate-stderr rg-scan "$COPY"
	assert_equal "$status" 1
	# team:v2 is the same image (converted), but only deep/a/b/c uses this blob
	assert_equal "$stderr" "rg-scan: deep/a/b/c@$d: $CV2/blobs/sha256/${hex:0:2}/$hex/data: manifest does not parse: not a JSON object"
	run jq -r --arg d "$d" 'select(.type == "manifest" and .digest == $d) | .error' <<<"$output"
	assert_output "not a JSON object"
}

@test "a manifest whose blob is missing, and a tag pointing at no revision" {
	copy_storage
	d=$(awk '$1 == "deep/a/b/c:x" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	hex=${d#sha256:}
	rm -r "$CV2/blobs/sha256/${hex:0:2}/$hex"
	rm -r "$CV2/repositories/team/_manifests/revisions"
	run --separate-stderr rg-scan "$COPY"
	assert_equal "$status" 1
	v2d=$(awk '$1 == "team:v2" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	assert_equal "$(sort <<<"$stderr")" "$(sort <<-EOF
	rg-scan: deep/a/b/c@$d: $CV2/blobs/sha256/${hex:0:2}/$hex/data: No such file or directory
	rg-scan: team:v2: points at $v2d, which has no revision link in the repository
	EOF
	)"
	run jq -r --arg d "$d" 'select(.type == "manifest" and .digest == $d) | .error' <<<"$output"
	assert_output "manifest blob missing"
}

@test "an unreadable repository directory: warning, exit 1, the rest scanned" {
	# root reads everything: scan as nobody, a copy that nobody owns
	[ "$(id -u)" -eq 0 ] || skip "needs root to scan as another user"
	d=$(mktemp -d /tmp/rg-unreadable.XXXXXX)
	chmod 755 "$d"
	cp -a "$REG_DATA" "$d/data"
	cp "$RG_BIN/rg-scan" "$d/"	# the checkout may be where nobody cannot go
	chown -R nobody "$d/data"
	chmod 000 "$d/data/docker/registry/v2/repositories/over"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$d/rg-scan" "$d/data"
	rm -rf "$d"
	assert_equal "$status" 1
	assert_equal "$stderr" "rg-scan: $d/data/docker/registry/v2/repositories/over: Permission denied"
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" \
		"$(( $(wc -l < "$BATS_FILE_TMPDIR/pushed") - 1 ))"
	# the last record says the scan is not whole: rg-refs then marks no blob
	assert_equal "$(tail -1 <<<"$output")" '{"type":"scan-end","complete":false}'
}

@test "names the registry would not write are reported and skipped" {
	copy_storage
	mkdir -p "$CV2/repositories/Bad/_manifests" "$CV2/repositories/team/app/_manifests/tags/-x/current"
	run --separate-stderr rg-scan "$COPY"
	assert_equal "$status" 1
	assert_equal "$(sort <<<"$stderr")" "$(sort <<-EOF
	rg-scan: $CV2/repositories/Bad: not a valid repository name, ignored
	rg-scan: $CV2/repositories/team/app/_manifests/tags/-x: not a valid tag name, ignored
	EOF
	)"
}

@test "schema 1, signed and unsigned (hand-written: a registry 2.8 no longer accepts it)" {
	copy_storage
	manifest='{"schemaVersion":1,"name":"old","tag":"v1","architecture":"amd64",
"fsLayers":[{"blobSum":"sha256:'$(printf %064d 1)'"},{"blobSum":"sha256:'$(printf %064d 1)'"},{"blobSum":"sha256:'$(printf %064d 2)'"}],
"history":[{"v1Compatibility":"{\"id\":\"x\",\"created\":\"2015-03-04T05:06:07.123456789Z\",\"architecture\":\"amd64\",\"os\":\"linux\"}"},{"v1Compatibility":"{}"}]}'
	for t in v1 v1s; do
		m=$manifest
		[ $t = v1s ] && m=${manifest%\}}',"signatures":[{"header":{},"signature":"x","protected":"y"}]}'
		hex=$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)
		mkdir -p "$CV2/blobs/sha256/${hex:0:2}/$hex" \
			"$CV2/repositories/old/_manifests/revisions/sha256/$hex" \
			"$CV2/repositories/old/_manifests/tags/$t/current"
		printf '%s' "$m" > "$CV2/blobs/sha256/${hex:0:2}/$hex/data"
		printf 'sha256:%s' "$hex" > "$CV2/repositories/old/_manifests/revisions/sha256/$hex/link"
		printf 'sha256:%s' "$hex" > "$CV2/repositories/old/_manifests/tags/$t/current/link"
	done
	run rg-scan -r '^old$' "$COPY"
	assert_success
	run jq -c 'select(.type == "manifest") | [.tags, .media_type, .blobs, .created, .platform]' <<<"$output"
	assert_equal "$(sort <<<"$output")" "$(printf '%s\n' \
		'[["v1"],"application/vnd.docker.distribution.manifest.v1+json",["sha256:'$(printf %064d 1)'","sha256:'$(printf %064d 2)'"],"2015-03-04T05:06:07Z",{"os":"linux","architecture":"amd64"}]' \
		'[["v1s"],"application/vnd.docker.distribution.manifest.v1+prettyjws",["sha256:'$(printf %064d 1)'","sha256:'$(printf %064d 2)'"],"2015-03-04T05:06:07Z",{"os":"linux","architecture":"amd64"}]' |
		sort)"
}

@test "uploads in progress are listed with their start time" {
	copy_storage
	u=$CV2/repositories/team/app/_uploads/0b6f3c8e-1a2b-4c5d-8e9f-0123456789ab
	mkdir -p "$u"
	printf '2024-05-06T07:08:09Z' > "$u/startedat"
	printf 'partial' > "$u/data"
	run rg-scan -r '^team/app$' "$COPY"
	assert_success
	run jq -c 'select(.type == "upload") | [.repo, .uuid, .started, .size]' <<<"$output"
	assert_output '["team/app","0b6f3c8e-1a2b-4c5d-8e9f-0123456789ab","2024-05-06T07:08:09Z",7]'
}

@test "a reader that closes early: no error message" {
	run --separate-stderr bash -c 'rg-scan "$REG_DATA" | head -1'
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -r .type <<<"$output")" scan
}

@test "a write error (full device): message and exit 2" {
	run --separate-stderr bash -c 'rg-scan "$REG_DATA" > /dev/full'
	assert_equal "$status" 2
	assert_equal "$stderr" "rg-scan: stdout: No space left on device"
}

@test "--version" {
	run rg-scan --version
	assert_success
	assert_output --regexp '^rg-scan [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "symbolic links are not followed; a blob without data is reported" {
	copy_storage
	ln -s "$CV2/repositories/team" "$CV2/repositories/alias"
	# a link in the middle of a path: other/base's layer links are base's
	rm -r "$CV2/repositories/other/base/_layers"
	ln -s "$CV2/repositories/base/_layers" "$CV2/repositories/other/base/_layers"
	mkdir -p "$CV2/blobs/sha256/ab/ab$(printf %062d 0)"
	run --separate-stderr rg-scan "$COPY"
	assert_equal "$status" 1
	assert_equal "$(sort <<<"$stderr")" "$(sort <<-EOF
	rg-scan: $CV2/repositories/alias: symbolic link, not followed
	rg-scan: $CV2/repositories/other/base/_layers: symbolic link, not followed
	rg-scan: $CV2/repositories/other/base/_layers/sha256: Too many levels of symbolic links
	rg-scan: $CV2/blobs/sha256/ab/ab$(printf %062d 0)/data: No such file or directory
	EOF
	)"
	scan=$output
	run jq -r 'select(.type == "repo") | .repo' <<<"$scan"
	refute_line alias
	run jq -r 'select(.type == "layer" and .repo == "other/base") | .digest' <<<"$scan"
	assert_output ""
}

@test "a symbolic link in the middle of a link's path is not followed: a link outside the root is not read" {
	copy_storage
	local dir hex
	dir=$(find "$CV2/repositories/team/app/_layers/sha256" -mindepth 1 -maxdepth 1 -type d | head -1)
	hex=${dir##*/}
	mkdir -p "$BATS_TEST_TMPDIR/outside/$hex"
	mv "$dir/link" "$BATS_TEST_TMPDIR/outside/$hex/link"
	rmdir "$dir"
	ln -s "$BATS_TEST_TMPDIR/outside/$hex" "$dir"
	# and a tag's current/ directory so, beside it
	dir=$CV2/repositories/team/app/_manifests/tags/1.0/current
	mv "$dir" "$BATS_TEST_TMPDIR/outside/current"
	ln -s "$BATS_TEST_TMPDIR/outside/current" "$dir"
	run --separate-stderr rg-scan "$COPY"
	assert_failure 1
	[[ "$stderr" == *"$CV2/repositories/team/app/_layers/sha256/$hex"* ]]
	[[ "$stderr" == *"_manifests/tags/1.0"* ]]
	# neither is in the records as if it were the storage's
	[ -z "$(jq -r --arg d "sha256:$hex" 'select(.type == "layer" and .repo == "team/app" and .digest == $d) | .digest' <<<"$output")" ]
	[ -z "$(jq -r 'select(.type == "tag" and .repo == "team/app" and .tag == "1.0") | .tag' <<<"$output")" ]
}

@test "what the registry's API deletes leave (a <hex>/ without link) is skipped" {
	copy_storage
	d=$(awk '$1 == "deep/a/b/c:x" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	rm "$CV2/repositories/deep/a/b/c/_manifests/revisions/sha256/${d#sha256:}/link"
	rm -r "$CV2/repositories/deep/a/b/c/_manifests/tags/x"
	run --separate-stderr rg-scan "$COPY"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -c 'select(.repo == "deep/a/b/c" and (.type == "manifest" or .type == "tag"))' <<<"$output")" ""
}

@test "strings that need escapes (quote, backslash, tab, non-ASCII): ASCII JSON that reads back the same" {
	type=$'application/vnd.ex\u00e9"\\x\ty\U0001F600'
	push_artifact esc weird "$(remote_digest base:1)" "$type" > /dev/null
	run --separate-stderr rg-scan -r '^esc$' "$REG_DATA"
	assert_success
	line=$(grep '"type":"manifest"' <<<"$output")
	assert_equal "$(jq -r .artifact_type <<<"$line")" "$type"
	[[ "$line" == *'"artifact_type":"application/vnd.ex\u00E9\"\\x\ty\uD83D\uDE00"'* ]]
	assert_equal "$(LC_ALL=C grep -c '[^ -~]' <<<"$output")" 0
}
