# rg-scan of a registry whose storage is on S3: a throwaway Ceph RADOS
# Gateway (tests/rgw) under the real registry on its s3 driver, images
# pushed with skopeo; checked against a filesystem scan of the same objects
# and against the registry's own collector on the bucket.

setup_file() {
	load helpers
	local d=$BATS_FILE_TMPDIR
	RGW_TLS=1 "$BATS_TEST_DIRNAME/rgw" "$d/rgw" start rg-test
	# shellcheck disable=SC1091
	. "$d/rgw/env"
	export RGW_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY RGW_TLS_ENDPOINT RGW_CA
	REG_S3="{accesskey: $AWS_ACCESS_KEY_ID, secretkey: $AWS_SECRET_ACCESS_KEY"
	REG_S3+=", region: us-east-1, bucket: rg-test, regionendpoint: '$RGW_ENDPOINT'"
	REG_S3+=", rootdirectory: /rg/prefix, secure: false, v4auth: true}"
	export REG_S3
	registry_start "$d/reg"
	push_mix "$d"
	# garbage: an image of its own, tagged over, then its manifest
	# deleted through the API: its blobs are left to the collector
	mkimage "$d/layout" lone amd64 2023-01-01T00:00:00Z lone-content
	push "$d/layout:lone" lone:1
	local lone
	lone=$(remote_digest lone:1)
	push "$d/layout:plain" lone:1
	curl -fsS -X DELETE "http://$REG/v2/lone/manifests/$lone"
	registry_stop
	sed 's/^http: .*/http: {addr: 127.0.0.1:0}/' "$d/reg/config.yml" > "$d/gc.yml"
}

teardown_file() {
	"$BATS_TEST_DIRNAME/rgw" "$BATS_FILE_TMPDIR/rgw" stop
}

setup() {
	load helpers
	U=s3://rg-test/rg/prefix
}

# kill_when_pending PATTERN [LOOKS [PAUSE]]: rg-rm on $BATS_TEST_TMPDIR/plan
# in the background (its records in $BATS_TEST_TMPDIR/audit), killed
# (SIGKILL) once a key of its pending directory matches the glob PATTERN,
# or after LOOKS looks PAUSE seconds apart; the keys then in pending in
# $keys
kill_when_pending() {
	local pattern=$1 looks=${2:-100} pause=${3:-0.05}
	rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan" \
		> "$BATS_TEST_TMPDIR/audit" 2>/dev/null &
	for _ in $(seq "$looks"); do
		keys=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test \
			rg/prefix/docker/registry/v2/.rg-trash/pending/)
		# shellcheck disable=SC2053
		[[ $keys != $pattern ]] || break
		sleep "$pause"
	done
	kill -9 $! 2>/dev/null || true
	wait $! 2>/dev/null || true
}

@test "S3: the scan of the bucket equals a filesystem scan of the same objects" {
	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" "$U"
	assert_success
	[ -z "$stderr" ]
	echo "$output" > "$BATS_TEST_TMPDIR/s3"
	head -1 "$BATS_TEST_TMPDIR/s3" | jq -e --arg u "$U" \
		'.source == "s3" and .root == $u'
	"$BATS_TEST_DIRNAME/s3tool" mirror rg-test rg/prefix "$BATS_TEST_TMPDIR/copy"
	rg-scan "$BATS_TEST_TMPDIR/copy" > "$BATS_TEST_TMPDIR/fs"
	# the same records (the order of repositories and blob directories
	# varies from run to run in both); the scan record says where
	diff <(sed 1d "$BATS_TEST_TMPDIR/fs" | sort) <(sed 1d "$BATS_TEST_TMPDIR/s3" | sort)
	[ "$(jq -s '[.[] | select(.type == "tag")] | length' "$BATS_TEST_TMPDIR/s3")" -eq 12 ]
	# AWS_ENDPOINT_URL does what --endpoint does
	AWS_ENDPOINT_URL=$RGW_ENDPOINT rg-scan "$U" | sed 1d | sort |
		diff - <(sed 1d "$BATS_TEST_TMPDIR/fs" | sort)
}

@test "S3: with jobs, the same records; each repository's together" {
	rg-scan -e "$RGW_ENDPOINT" -j 1 "$U" | sed 1d | sort > "$BATS_TEST_TMPDIR/one"
	for j in 4 16; do
		rg-scan -e "$RGW_ENDPOINT" -j "$j" "$U" > "$BATS_TEST_TMPDIR/many"
		sed 1d "$BATS_TEST_TMPDIR/many" | sort | diff "$BATS_TEST_TMPDIR/one" -
		# the repositories in the order their records come: none twice
		jq -r 'select(.repo != null and .type != "scan") | .repo' \
			"$BATS_TEST_TMPDIR/many" | uniq | sort | uniq -d > "$BATS_TEST_TMPDIR/split"
		[ ! -s "$BATS_TEST_TMPDIR/split" ]
	done
	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" -j 0 "$U"
	assert_failure 2
}

@test "S3: 503 SlowDown and 500 answers are tried again: the same records" {
	rg-scan -e "$RGW_ENDPOINT" -j 1 "$U" | sed 1d | sort > "$BATS_TEST_TMPDIR/direct"
	S3=1 proxy_start "${RGW_ENDPOINT#http://}" 503,503,500 "$BATS_TEST_TMPDIR/log"
	: > "$BATS_TEST_TMPDIR/log"
	run --separate-stderr rg-scan -e "http://$PROXY" -j 1 "$U"
	kill "$PROXY_PID"
	assert_success
	assert_equal "$stderr" ""
	sed 1d <<<"$output" | sort | diff "$BATS_TEST_TMPDIR/direct" -
	# the first request was asked four times: three failures, then the answer
	assert_equal "$(head -4 "$BATS_TEST_TMPDIR/log" | cut -d' ' -f1 | paste -sd' ')" "503 503 500 200"
	assert_equal "$(head -4 "$BATS_TEST_TMPDIR/log" | cut -d' ' -f2 | sort -u | wc -l)" 1
}

@test "S3: rg-refs frees exactly the blobs the registry's collector finds on the bucket" {
	rg-scan -e "$RGW_ENDPOINT" "$U" | rg-refs > "$BATS_TEST_TMPDIR/plan"
	got=$(jq -r 'select(.type == "blob" and .delete == true) | .digest' \
		"$BATS_TEST_TMPDIR/plan" | sort)
	[ -n "$got" ]
	env -u AWS_CA_BUNDLE docker-registry garbage-collect --dry-run \
		"$BATS_FILE_TMPDIR/gc.yml" > "$BATS_TEST_TMPDIR/gc"
	expected=$(sed -n 's/^blob eligible for deletion: //p' "$BATS_TEST_TMPDIR/gc" | sort)
	assert_equal "$got" "$expected"
}

@test "S3: wrong keys, a missing bucket, no endpoint there: exit 2, said, no secret shown" {
	run --separate-stderr env AWS_SECRET_ACCESS_KEY=wrongsecret0123456789 \
		rg-scan -e "$RGW_ENDPOINT" "$U"
	assert_failure 2
	[ -z "$output" ]
	[[ $stderr == *"s3://rg-test/rg/prefix"*"403"* ]]
	[[ $stderr != *wrongsecret* && $stderr != *"$AWS_SECRET_ACCESS_KEY"* ]]

	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" s3://no-such-bucket
	assert_failure 2
	[ -z "$output" ]
	[[ $stderr == *"s3://no-such-bucket"*"NoSuchBucket"* ]]

	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" s3://rg-test/not/there
	assert_failure 2
	[[ $stderr == *"no registry storage there"* ]]

	run --separate-stderr env -u AWS_ACCESS_KEY_ID HOME=/nonexistent \
		rg-scan -e "$RGW_ENDPOINT" "$U"
	assert_failure 2
	[[ $stderr == *"no credentials"* ]]

	run --separate-stderr rg-scan -e http://127.0.0.1:1 "$U"
	assert_failure 2
	[[ $stderr == *"s3://rg-test/rg/prefix"* ]]
	[[ $stderr != *"$AWS_SECRET_ACCESS_KEY"* ]]
}

@test "S3: keys from ~/.aws/credentials, the profile AWS_PROFILE names" {
	mkdir -p "$BATS_TEST_TMPDIR/home/.aws"
	cat > "$BATS_TEST_TMPDIR/home/.aws/credentials" <<-EOF
	[default]
	aws_access_key_id = NOTTHISONE
	aws_secret_access_key = notthisoneeither

	# the registry's
	[rg]
	aws_access_key_id = $AWS_ACCESS_KEY_ID
	aws_secret_access_key=$AWS_SECRET_ACCESS_KEY
	EOF
	rg-scan -e "$RGW_ENDPOINT" "$U" | sed 1d | sort > "$BATS_TEST_TMPDIR/direct"
	HOME=$BATS_TEST_TMPDIR/home AWS_PROFILE=rg \
		env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		rg-scan -e "$RGW_ENDPOINT" "$U" | sed 1d | sort |
		diff "$BATS_TEST_TMPDIR/direct" -
	# the default profile's keys are wrong: 403
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		HOME="$BATS_TEST_TMPDIR/home" rg-scan -e "$RGW_ENDPOINT" "$U"
	assert_failure 2
	[[ $stderr == *403* && $stderr != *notthisoneeither* ]]
	# AWS_SHARED_CREDENTIALS_FILE instead of ~/.aws/credentials
	AWS_SHARED_CREDENTIALS_FILE=$BATS_TEST_TMPDIR/home/.aws/credentials \
		AWS_PROFILE=rg env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		rg-scan -e "$RGW_ENDPOINT" "$U" | sed 1d | sort |
		diff "$BATS_TEST_TMPDIR/direct" -
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		HOME=/nonexistent rg-scan -e "$RGW_ENDPOINT" "$U"
	assert_failure 2
	[[ $stderr == *"no credentials"* ]]
}

@test "S3 over TLS: the endpoint's certificate is verified; --cacert and --insecure, for rg-scan and rg-rm" {
	local plan=$BATS_TEST_TMPDIR/plan
	run --separate-stderr env -u AWS_CA_BUNDLE rg-scan -e "$RGW_TLS_ENDPOINT" "$U"
	assert_failure 2
	[[ $stderr == *"certificate"* ]]
	rg-scan -e "$RGW_ENDPOINT" "$U" | jq -c 'select(.type != "scan" and .type != "scan-end")' |
		sort > "$BATS_TEST_TMPDIR/http"
	rg-scan -e "$RGW_TLS_ENDPOINT" --cacert "$RGW_CA" "$U" |
		jq -c 'select(.type != "scan" and .type != "scan-end")' | sort > "$BATS_TEST_TMPDIR/tls"
	[ -s "$BATS_TEST_TMPDIR/tls" ]
	cmp "$BATS_TEST_TMPDIR/http" "$BATS_TEST_TMPDIR/tls"
	rg-scan -e "$RGW_TLS_ENDPOINT" -k "$U" | rg-select --untagged | rg-refs 2>/dev/null > "$plan"
	# rg-rm: refused unverified, then with the CA and with -k (dry runs)
	run --separate-stderr env -u AWS_CA_BUNDLE rg-rm -n -e "$RGW_TLS_ENDPOINT" < "$plan"
	assert_failure 2
	[[ $stderr == *"certificate"* ]]
	run --separate-stderr rg-rm -n -e "$RGW_TLS_ENDPOINT" --cacert "$RGW_CA" < "$plan"
	assert_success
	[ "$(jq -s '[.[] | select(.type == "rm")] | length' <<<"$output")" -gt 0 ]
	assert_equal "$(jq -c 'del(.time)' <<<"$output" | sort)" \
		"$(rg-rm -n -e "$RGW_TLS_ENDPOINT" -k < "$plan" 2>/dev/null |
		jq -c 'del(.time)' | sort)"	# (16 jobs: in any order)
	# the API's other options stay usage errors with an S3 stream
	for opt in "-u bob" "--cert /dev/null" "--key /dev/null"; do
		run --separate-stderr rg-rm -n -k $opt -e "$RGW_TLS_ENDPOINT" < "$plan"
		assert_equal "$opt $status" "$opt 2"
		[[ $stderr == *"applies to a stream scanned through a registry's URL"* ]]
	done
}

@test "S3: options that do not apply are usage errors" {
	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" "$BATS_TEST_TMPDIR"
	assert_failure 2
	[[ $stderr == *"--endpoint: applies to a scan of S3"* ]]
	run --separate-stderr rg-scan -u bob "$U"
	assert_failure 2
	[[ $stderr == *"--user: applies to a scan of a registry's URL, not of S3"* ]]
	# (after an option S3 takes too, as well)
	run --separate-stderr rg-scan -j 2 -k --page-size 10 "$U"
	assert_failure 2
	[[ $stderr == *"--page-size: applies to a scan of a registry's URL, not of S3"* ]]
	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" s3://Bad_Bucket
	assert_failure 2
	[[ $stderr == *"not s3://BUCKET[/ROOTDIR]"* ]]
	# rg-rm: --endpoint is S3's
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	rg-scan "$BATS_TEST_TMPDIR/empty" | rg-refs > "$BATS_TEST_TMPDIR/fs.plan"
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" < "$BATS_TEST_TMPDIR/fs.plan"
	assert_failure 2
	[[ $stderr == *"--endpoint: applies to a stream scanned from S3"* ]]
	# --jobs (a filesystem takes them too: the error is the storage's): a number from 1 to 64
	run --separate-stderr rg-rm -j 2 < "$BATS_TEST_TMPDIR/fs.plan"
	assert_failure 2
	[[ $stderr == *"empty/docker/registry/v2: No such file or directory"* && $stderr != *"--jobs"* ]]
	run --separate-stderr rg-rm -j 0 < "$BATS_TEST_TMPDIR/fs.plan"
	assert_failure 2
	[[ $stderr == *"--jobs: 0: not a number from 1 to 64"* ]]
}

@test "S3: rg-rm with jobs decides each object as one job does" {
	sweep team/app:1.0 > "$BATS_TEST_TMPDIR/plan"
	for j in 1 16; do
		rg-rm -n -j "$j" -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan" |
			jq -c 'select(.type == "rm") | del(.time)' | sort > "$BATS_TEST_TMPDIR/rm$j"
	done
	[ "$(wc -l < "$BATS_TEST_TMPDIR/rm1")" -gt 10 ]
	diff "$BATS_TEST_TMPDIR/rm1" "$BATS_TEST_TMPDIR/rm16"
}

@test "S3: --config reads the registry's own s3 configuration, and its environment overrides" {
	rg-scan -e "$RGW_ENDPOINT" "$U" | sed 1d | sort > "$BATS_TEST_TMPDIR/direct"
	# the registry's config.yml as it runs: endpoint, keys, rootdirectory
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		rg-scan -c "$BATS_FILE_TMPDIR/gc.yml"
	assert_success
	head -1 <<<"$output" | jq -e --arg u "$U" '.source == "s3" and .root == $u'
	sed 1d <<<"$output" | sort | diff "$BATS_TEST_TMPDIR/direct" -
	[[ $output != *"$AWS_SECRET_ACCESS_KEY"* && $stderr != *"$AWS_SECRET_ACCESS_KEY"* ]]
	# REGISTRY_STORAGE_S3_* win over the file, as for the registry
	run --separate-stderr env REGISTRY_STORAGE_S3_BUCKET=no-such-bucket \
		rg-scan -c "$BATS_FILE_TMPDIR/gc.yml"
	assert_failure 2
	[[ $stderr == *"s3://no-such-bucket/rg/prefix"*"NoSuchBucket"* ]]
	run --separate-stderr env REGISTRY_STORAGE_S3_SECRETKEY=wrongsecret0123456789 \
		rg-scan -c "$BATS_FILE_TMPDIR/gc.yml"
	assert_failure 2
	[[ $stderr == *403* && $stderr != *wrongsecret* ]]
	# a regionendpoint without a scheme: secure says which
	sed "s|regionendpoint: '$RGW_ENDPOINT'|regionendpoint: '${RGW_ENDPOINT#http://}'|" \
		"$BATS_FILE_TMPDIR/gc.yml" > "$BATS_TEST_TMPDIR/noscheme.yml"
	grep -q "regionendpoint: '127.0.0.1:" "$BATS_TEST_TMPDIR/noscheme.yml"
	rg-scan -c "$BATS_TEST_TMPDIR/noscheme.yml" | sed 1d | sort |
		diff "$BATS_TEST_TMPDIR/direct" -
	# S3's options go with it; the API's do not
	rg-scan -j 2 -c "$BATS_FILE_TMPDIR/gc.yml" | sed 1d | sort |
		diff "$BATS_TEST_TMPDIR/direct" -
	run --separate-stderr rg-scan -u bob -c "$BATS_FILE_TMPDIR/gc.yml"
	assert_failure 2
	[[ $stderr == *"--user: applies to a scan of a registry's URL, not of S3"* ]]
}

@test "S3: an interrupted push is an upload, its size from the parts of its multipart upload" {
	registry_start "$BATS_TEST_TMPDIR/reg"
	loc=$(curl -fsS -i -X POST "http://$REG/v2/team/app/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^Location: //Ip')
	head -c 300 /dev/urandom > "$BATS_TEST_TMPDIR/chunk"
	curl -fsS -X PATCH -H 'Content-Type: application/octet-stream' \
		--data-binary "@$BATS_TEST_TMPDIR/chunk" "$loc"
	registry_stop
	uuid=${loc%%\?*}
	uuid=${uuid##*/}
	# S3 keeps its data as an incomplete multipart upload, not an object
	"$BATS_TEST_DIRNAME/s3tool" uploads rg-test | grep -q "_uploads/$uuid/data "
	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" "$U"
	assert_success
	jq -se --arg u "$uuid" '[.[] | select(.type == "upload" and .uuid == $u)] |
		length == 1 and .[0].repo == "team/app" and .[0].size == 300 and
		.[0].started != null and .[0].modified != null' <<<"$output"
}

# every tag of the bucket, pulled whole (skopeo copy --all) from a registry
# started again on it
pull_all() {
	local ref n=0
	registry_start "$BATS_TEST_TMPDIR/pullreg"
	for ref in $(rg-scan -e "$RGW_ENDPOINT" "$U" |
		jq -r 'select(.type == "tag") | "\(.repo):\(.tag)"'); do
		rm -rf "$BATS_TEST_TMPDIR/pulled"
		skopeo copy -q --all --src-tls-verify=false "docker://$REG/$ref" \
			"dir:$BATS_TEST_TMPDIR/pulled" >/dev/null || {
			registry_stop
			echo "broken: $ref"
			return 1
		}
		n=$((n + 1))
	done
	registry_stop
	echo "$n"
}

# the untagged sweep and the uploads, with the tags named, if any
sweep() {
	if [ $# -gt 0 ]; then
		rg-scan -e "$RGW_ENDPOINT" "$U" | rg-select "$@" | rg-select --untagged
	else
		rg-scan -e "$RGW_ENDPOINT" "$U" | rg-select --untagged
	fi | rg-refs -U 0s 2>/dev/null
}

@test "S3: a dry run changes no key and no ETag" {
	"$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix > "$BATS_TEST_TMPDIR/before"
	"$BATS_TEST_DIRNAME/s3tool" uploads rg-test > "$BATS_TEST_TMPDIR/up.before"
	sweep > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -n -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[[ $stderr == *"would delete:"*"manifests"* ]]
	"$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix | diff "$BATS_TEST_TMPDIR/before" -
	"$BATS_TEST_DIRNAME/s3tool" uploads rg-test | diff "$BATS_TEST_TMPDIR/up.before" -
}

@test "S3: the real sweep deletes what rg-refs planned; the collector finds nothing after; every tag pulls whole" {
	before=$(pull_all)
	sweep team/app:1.0 > "$BATS_TEST_TMPDIR/plan"
	planned=$(jq -s '[.[] | select(.delete == true)] | length' "$BATS_TEST_TMPDIR/plan")
	[ "$planned" -gt 10 ]
	# the tags' index entries (their history) of the manifests planned
	local entries='/repositories/('"$(jq -r 'select(.type == "manifest" and
		.delete == true) | "\(.repo)/_manifests/tags/[^/]+/index/sha256/\(.digest |
		ltrimstr("sha256:"))/"' "$BATS_TEST_TMPDIR/plan" | paste -sd '|')"')'
	"$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix | grep -qE "$entries"
	run --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		rg-rm -c "$BATS_FILE_TMPDIR/gc.yml" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	! "$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix | grep -E "$entries"
	assert_equal "$(jq -s '[.[] | select(.type == "rm" and .result == "deleted")] |
		length' <<<"$output")" "$planned"
	# the tag, its manifest's history, the upload and its multipart upload: gone
	keys=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix)
	[[ $keys != *"/team/app/_manifests/tags/1.0/"* && $keys != *"/_uploads/"* ]]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" uploads rg-test)" ]
	env -u AWS_CA_BUNDLE docker-registry garbage-collect --dry-run \
		"$BATS_FILE_TMPDIR/gc.yml" > "$BATS_TEST_TMPDIR/gc"
	grep -q '0 blobs and 0 manifests eligible for deletion' "$BATS_TEST_TMPDIR/gc"
	after=$(pull_all)
	# (team/app:sig-1.0, a signature of 1.0, went with it)
	tags=$(jq -s '[.[] | select(.type == "rm" and .object == "tag" and
		.result == "deleted")] | length' <<<"$output")
	[ "$tags" -ge 1 ]
	assert_equal "$after" "$((before - tags))"
	# and a second run finds nothing more to do
	sweep team/app:1.0 | rg-refs | jq -se '.[-1].manifests == 0 and .[-1].blobs == 0'
}

@test "S3: the registry's in-memory cache: layer links and blobs go only between --stop and --start" {
	local L=$BATS_FILE_TMPDIR/layout r=$BATS_TEST_TMPDIR/reg
	REG_CACHE=inmemory registry_start "$r"
	mkimage "$L" cached amd64 2023-03-01T00:00:00Z cached-content
	push "$L:cached" cache/app:1
	skopeo copy -q --src-tls-verify=false "docker://$REG/cache/app:1" \
		"dir:$BATS_TEST_TMPDIR/p1" >/dev/null	# the cache knows its blobs
	sleep 1
	rg-scan -e "$RGW_ENDPOINT" "$U" | rg-select cache/app:1 | rg-refs 2>/dev/null \
		> "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -c "$r/config.yml" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	# its tag and manifest go; its layer links and blobs (and any other
	# garbage's) stay, for that reason
	assert_equal "$(jq -r 'select(.type == "rm" and .result == "deleted") |
		"\(.object) \(.repo)"' <<<"$output" | sort | paste -sd,)" \
		"manifest cache/app,tag cache/app"
	assert_equal "$(jq -r 'select(.type == "rm" and .result == "kept") | .why' \
		<<<"$output" | sort -u)" "the registry's in-memory cache could go on claiming it: --stop and --start delete it while the registry is stopped"
	[ "$(jq -s '[.[] | select(.result == "kept" and .repo == "cache/app")] | length' <<<"$output")" -eq 2 ]
	[[ $stderr == *"caches blob descriptors in memory"* ]]
	# the same plan's links and blobs, with the registry stopped meanwhile
	rg-scan -e "$RGW_ENDPOINT" "$U" | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -c "$r/config.yml" --min-age 0s \
		--stop "$BATS_TEST_DIRNAME/registryctl $r stop" \
		--start "$BATS_TEST_DIRNAME/registryctl $r start" < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[ "$(jq -s '[.[] | select(.result == "deleted" and .object == "layer" and
		.repo == "cache/app")] | length' <<<"$output")" -eq 2 ]
	[ "$(jq -s '[.[] | select(.result == "deleted" and .object == "blob")] |
		length' <<<"$output")" -ge 2 ]
	[ "$(jq -s '[.[] | select(.result == "kept")] | length' <<<"$output")" -eq 0 ]
	curl -fsS "http://$REG/v2/" >/dev/null	# started again
	# the same layers pushed again upload, and pull whole
	push "$L:cached" cache/app:2
	skopeo copy -q --all --src-tls-verify=false "docker://$REG/cache/app:2" \
		"dir:$BATS_TEST_TMPDIR/p2" >/dev/null
	registry_stop
}

@test "S3: SIGTERM between --stop and --start waits: the registry is started again first, then rg-rm ends" {
	local L=$BATS_FILE_TMPDIR/layout
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" sig amd64 2023-05-01T00:00:00Z signal-content
	push "$L:sig" signal/app:1
	registry_stop
	sleep 1		# (what was pushed in the scan's second is kept)
	sweep signal/app:1 > "$BATS_TEST_TMPDIR/plan"
	[ "$(jq -s '[.[] | select(.delete == true and .type == "blob")] | length' "$BATS_TEST_TMPDIR/plan")" -ge 1 ]
	# the --stop command signals rg-rm itself (its parent) as it stops the registry
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s \
		--stop 'kill -TERM $PPID' --start "touch '$BATS_TEST_TMPDIR/started'" \
		< "$BATS_TEST_TMPDIR/plan"
	assert_failure 143	# the signal, taken once the window closed
	[ -f "$BATS_TEST_TMPDIR/started" ]
	[ "$(jq -s '[.[] | select(.result == "deleted" and .object == "blob")] | length' <<<"$output")" -ge 1 ]
}

@test "S3: a key with .. below an object is never asked for: the object stays, no other key is touched" {
	local L=$BATS_FILE_TMPDIR/layout v2=rg/prefix/docker/registry/v2 hex
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" h1 amd64 2023-04-01T00:00:00Z hostile-content
	push "$L:h1" hostile/app:1
	push "$L:plain" hostile/app:1
	registry_stop
	sleep 1		# (what was pushed in the scan's second is kept)
	sweep > "$BATS_TEST_TMPDIR/plan"
	hex=$(jq -r 'select(.type == "layer" and .repo == "hostile/app" and
		.delete == true) | .digest | ltrimstr("sha256:")' "$BATS_TEST_TMPDIR/plan" | head -1)
	[ -n "$hex" ]
	put() {	# a key exactly as named, dots and all
		curl -fsS --path-as-is -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --data-binary "$2" \
			"$RGW_ENDPOINT/rg-test/$1" >/dev/null
	}
	# below the layer link, a key that a normalised URL reads as another
	put "$v2/repositories/hostile/app/_layers/sha256/$hex/../../../../victim" evil
	put "$v2/repositories/hostile/victim" precious
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_failure 1
	[[ $stderr == *"a key with an empty, . or .. component: not touched"* ]]
	jq -se --arg h "sha256:$hex" '[.[] | select(.object == "layer" and
		.digest == $h)] | length == 1 and .[0].result == "failed"' <<<"$output"
	keys=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/hostile/")
	[[ $keys == *"/hostile/victim 8 "* ]]
	[[ $keys == *"/sha256/$hex/link "* && $keys == *"/sha256/$hex/../../../../victim "* ]]
	pull_all > /dev/null
	# the hostile key gone, the next run deletes the layer link and its blob
	curl -fsS --path-as-is -X DELETE --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
		"$RGW_ENDPOINT/rg-test/$v2/repositories/hostile/app/_layers/sha256/$hex/../../../../victim"
	sleep 1
	sweep | rg-rm -e "$RGW_ENDPOINT" --min-age 0s > /dev/null
	keys=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/hostile/")
	[[ $keys != *"/sha256/$hex/"* && $keys == *"/hostile/victim 8 "* ]]
}

@test "S3: links are set aside without copies: a killed run's journal of them is written back by the next run" {
	local L=$BATS_FILE_TMPDIR/layout v2=rg/prefix/docker/registry/v2 rev lay hex
	s3req() {	# METHOD KEY [BODY]: a request exactly as named
		curl -fsS --path-as-is -X "$1" --aws-sigv4 "aws:amz:us-east-1:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' ${3+--data-binary "$3"} \
			"$RGW_ENDPOINT/rg-test/$2"
	}
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" jr amd64 2023-05-01T00:00:00Z journal-content
	push "$L:jr" journal/app:1
	registry_stop
	sleep 1
	sweep > "$BATS_TEST_TMPDIR/plan"
	rev=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/journal/app/_manifests/revisions/" |
		awk '$1 ~ /\/link$/ { print $1; exit }')
	lay=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/journal/app/_layers/" |
		awk '$1 ~ /\/link$/ { print $1; exit }')
	[ -n "$rev" ] && [ -n "$lay" ]
	# what a run killed after deleting them leaves: no link, a journal
	# naming their objects (and lines that are no link's, left alone)
	s3req DELETE "$rev"
	s3req DELETE "$lay"
	hex=${lay%/link}; hex=${hex##*/}
	s3req PUT "$v2/.rg-trash/pending/999-7.links" "$(printf '%s\n' \
		"${rev#$v2/}" "${lay#$v2/}" \
		"repositories/journal/../victim/_layers/sha256/$hex" \
		"blobs/sha256/${hex:0:2}/$hex" | sed 's,/link$,,')"
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[[ $stderr == *"put back 2 objects a killed run had moved away"* ]]
	[ "$(s3req GET "$rev")" = "sha256:$(basename "$(dirname "$rev")")" ]
	[ "$(s3req GET "$lay")" = "sha256:$hex" ]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/")" ]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/victim")" ]
	[ "$(pull_all)" -ge 1 ]
	# a run's links are named in a journal, never copied (seen in its wait)
	local keys= try
	for try in 1 2 3; do
		registry_start "$BATS_TEST_TMPDIR/reg"
		mkimage "$L" "jo$try" amd64 2023-05-02T00:00:00Z "journal-over-$try"
		push "$L:jo$try" journal/app:1
		push "$L:jr" journal/app:1
		registry_stop
		sleep 1		# (what was pushed in the scan's second is kept)
		sweep > "$BATS_TEST_TMPDIR/plan"
		kill_when_pending '*.links*'
		[[ $keys != *.links* ]] || break
	done
	[[ $keys == *.links* ]]
	! grep -E '/(_layers|_manifests/revisions)/sha256/[0-9a-f]{64}/link' <<<"$keys"
	pull_all > /dev/null
	sweep | rg-rm -e "$RGW_ENDPOINT" --min-age 0s > /dev/null 2>&1
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/")" ]
	pull_all > /dev/null
}

# s3obj METHOD KEY [BODY]: a request exactly as named, apart from rg's client
s3obj() {
	curl -fsS --path-as-is -X "$1" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' ${3+--data-binary "$3"} \
		"$RGW_ENDPOINT/rg-test/$2"
}

@test "S3: what rg-rm writes back is written as the registry writes (objectacl, storageclass from config.yml)" {
	local L=$BATS_FILE_TMPDIR/layout v2=rg/prefix/docker/registry/v2 lay hex
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" acl amd64 2023-07-01T00:00:00Z acl-content
	push "$L:acl" acl/app:1
	registry_stop
	lay=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/acl/app/_layers/" |
		awk '$1 ~ /\/link$/ { print $1; exit }')
	[ -n "$lay" ]
	! s3obj GET "$lay?acl=" | grep -q AllUsers	# the registry's: private
	# a killed run's journal names the link, gone: --recover writes it back
	s3obj DELETE "$lay" >/dev/null
	local dir=${lay%/link}
	s3obj PUT "$v2/.rg-trash/pending/0123-1.links" "${dir#$v2/}"$'\n' >/dev/null
	sed -e 's/secure: false/secure: false, objectacl: public-read, storageclass: STANDARD/' \
		"$BATS_FILE_TMPDIR/gc.yml" > "$BATS_TEST_TMPDIR/acl.yml"
	grep -q 'objectacl: public-read' "$BATS_TEST_TMPDIR/acl.yml"
	run --separate-stderr rg-rm --recover -c "$BATS_TEST_TMPDIR/acl.yml" -r "$U"
	assert_success
	hex=${lay%/link}; hex=${hex##*/}
	[ "$(s3obj GET "$lay")" = "sha256:$hex" ]
	s3obj GET "$lay?acl=" | grep -q "http://acs.amazonaws.com/groups/global/AllUsers"
}

@test "S3: times are read on this machine's clock: a server clock 10 minutes off shifts no push time" {
	local L=$BATS_FILE_TMPDIR/layout
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" sk amd64 2023-08-01T00:00:00Z skew-content
	push "$L:sk" skew/app:1
	registry_stop
	# this machine's clock 10 minutes ahead of the server's (SigV4 takes 15);
	# (under ASan, libfaketime is preloaded before its runtime: allowed)
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	run --separate-stderr faketime -f '+600s' rg-scan -e "$RGW_ENDPOINT" "$U"
	assert_success
	[[ "$stderr" == *"the S3 server's clock is "*" s behind this machine's: its times are read on this machine's clock"* ]]
	local scan pushed
	scan=$(jq -r 'select(.type == "scan") | .time | fromdateiso8601' <<<"$output")
	pushed=$(jq -r 'select(.type == "tag" and .repo == "skew/app") | .pushed | fromdateiso8601' <<<"$output")
	# pushed a few seconds before the scan, on the scan's clock, not 600 s
	[ $((scan - pushed)) -ge 0 ] && [ $((scan - pushed)) -lt 120 ]
	# a rg-rm so skewed keeps what was pushed after the scan
	faketime -f '+600s' rg-scan -e "$RGW_ENDPOINT" "$U" 2>/dev/null | rg-select skew/app:1 |
		rg-select --untagged | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	sleep 1
	registry_start "$BATS_TEST_TMPDIR/reg"
	push "$L:sk" skew/app:2	# the same image, tagged again since the scan
	registry_stop
	run --separate-stderr faketime -f '+600s' rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	registry_start "$BATS_TEST_TMPDIR/reg"
	pulls skew/app:2
	registry_stop
}

@test "S3: an object past CopyObject's limit is set aside and put back in copied parts (RG_S3_COPY_MAX)" {
	local L=$BATS_FILE_TMPDIR/layout v2=rg/prefix/docker/registry/v2 src big hex keys= try
	mkimage "$L" big amd64 2023-10-01T00:00:00Z big-content
	src=$(mktemp -d)
	head -c 12582912 /dev/urandom > "$src/big"
	umoci insert --image "$L:big" "$src/big" /big >/dev/null
	rm -rf "$src"
	export RG_S3_COPY_MAX=5242880	# a store whose copies stop at 5 MiB: parts of 5 MiB
	for try in 1 2 3; do
		registry_start "$BATS_TEST_TMPDIR/reg"
		push "$L:big" "big/app$try:1"
		registry_stop
		sleep 1
		sweep "big/app$try:1" > "$BATS_TEST_TMPDIR/plan"
		big=$(jq -r 'select(.type == "blob" and .delete == true and .size > 10000000) | .digest' "$BATS_TEST_TMPDIR/plan")
		[ -n "$big" ]
		hex=${big#sha256:}
		# killed with it set aside (copied to pending in 3 parts, the original gone)
		kill_when_pending "*$hex/data*" 300 0.02
		[[ $keys != *"$hex/data"* ]] || break
	done
	[[ $keys == *"$hex/data"* ]]
	# put back by --recover, in parts: a multipart object, its ETag ends -3
	run --separate-stderr rg-rm --recover -e "$RGW_ENDPOINT" -r "$U"
	assert_success
	keys=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/blobs/sha256/${hex:0:2}/$hex/")
	[[ $keys == *"/data 12"*"-3"* ]]
	# the blob whole: its digest
	[ "$(s3obj GET "$v2/blobs/sha256/${hex:0:2}/$hex/data" | sha256sum | cut -d' ' -f1)" = "$hex" ]
	# and set aside in parts by a run that finishes: gone
	sleep 1		# (what --recover wrote back, in the scan's second, is kept)
	sweep "big/app$try:1" > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/blobs/sha256/${hex:0:2}/$hex/")" ]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/")" ]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" uploads rg-test)" ]
	unset RG_S3_COPY_MAX
}

@test "S3: two rg-rm at once: one holds the lease, the other refuses, saying who and since when; pushes meanwhile stay whole" {
	local L=$BATS_FILE_TMPDIR/layout v2=rg/prefix/docker/registry/v2 i
	registry_start "$BATS_TEST_TMPDIR/reg"
	for i in 1 2 3; do
		mkimage "$L" "tw$i" amd64 2023-06-0${i}T00:00:00Z "two-runs-$i"
		push "$L:tw$i" "two/app$i:1"
	done
	push "$L:plain" two/app1:1	# tw1 untagged: garbage
	registry_stop
	sleep 1
	sweep two/app2:1 > "$BATS_TEST_TMPDIR/plan"
	# the first run holds the lease 4 s in its window (--stop), deleting
	rg-rm -e "$RGW_ENDPOINT" --min-age 0s --stop 'sleep 4' --start true \
		< "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/first" 2> "$BATS_TEST_TMPDIR/first.err" &
	local first=$!
	for i in $(seq 100); do
		s3obj GET "$v2/.rg-trash/lease" > "$BATS_TEST_TMPDIR/lease" 2>/dev/null && break
		sleep 0.05
	done
	[ -s "$BATS_TEST_TMPDIR/lease" ]
	# a second run, the same plan: refused, nothing deleted, the holder named
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	[[ "$stderr" == *"another rg-rm holds the lease (.rg-trash/lease): run $(jq -r .run "$BATS_TEST_TMPDIR/lease") on $(hostname), pid $first, since "*", renewed "*" s ago; it lapses in "*" s unless renewed; nothing deleted"* ]]
	[ -z "$(jq -r 'select(.result == "deleted") | .object' <<<"$output")" ]
	# a push while the first run works
	registry_start "$BATS_TEST_TMPDIR/reg"
	push "$L:tw1" two/app3:2
	wait "$first"	# (exit 0: every object deleted or kept, none failed)
	[ "$(jq -s '[.[] | select(.result == "deleted")] | length' "$BATS_TEST_TMPDIR/first")" -ge 2 ]
	! grep -q NoSuchKey "$BATS_TEST_TMPDIR/first.err"
	# the lease went with it; what stays pulls whole
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/")" ]
	pulls two/app1:1 two/app3:1 two/app3:2
	registry_stop
	# and the second run, again, finds its objects gone
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[ -z "$(jq -r 'select(.result == "deleted") | .object' <<<"$output")" ]
}

@test "S3: the lease is renewed while a run works; a run whose lease another takes stops deleting" {
	local L=$BATS_FILE_TMPDIR/layout v2=rg/prefix/docker/registry/v2 i m1 m2
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" rn amd64 2023-09-01T00:00:00Z renew-content
	push "$L:rn" renew/app:1
	registry_stop
	sleep 1
	sweep renew/app:1 > "$BATS_TEST_TMPDIR/plan"
	[ "$(jq -s '[.[] | select(.delete == true and .type == "blob")] | length' "$BATS_TEST_TMPDIR/plan")" -ge 1 ]
	# a 5 s lease, renewed every second; the run waits 4 s in its window
	rg-rm -e "$RGW_ENDPOINT" --min-age 0s --lease 5s --stop 'sleep 4' --start true \
		< "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2> "$BATS_TEST_TMPDIR/err" &
	local pid=$!
	lease_time() {
		curl -fsS -I --aws-sigv4 "aws:amz:us-east-1:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
			"$RGW_ENDPOINT/rg-test/$v2/.rg-trash/lease" 2>/dev/null |
			grep -i '^last-modified'
	}
	for i in $(seq 100); do
		m1=$(lease_time) && break
		sleep 0.05
	done
	[ -n "$m1" ]
	sleep 2.2
	m2=$(lease_time)
	# renewed meanwhile: written again, a later Last-Modified
	[ -n "$m2" ] && [ "$m1" != "$m2" ]
	# another run takes it (as one would after a lapse): this one stops
	s3obj PUT "$v2/.rg-trash/lease" '{"run":"ffffffffffffffffffffffffffffffff","host":"elsewhere","boot":"b","pidns":"p","pid":1,"pid_start":1,"started":"2026-01-01T00:00:00Z","ttl":600}' >/dev/null
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 1 ]	# the objects it could no longer set aside, each said
	grep -q 'the lease (.rg-trash/lease) was taken by another run: no more is deleted' "$BATS_TEST_TMPDIR/err"
	[ "$(jq -s '[.[] | select(.result == "deleted" and .object == "blob")] | length' "$BATS_TEST_TMPDIR/audit")" -eq 0 ]
	# it left the other's lease alone
	[[ "$(s3obj GET "$v2/.rg-trash/lease")" == *ffffffffffffffffffffffffffffffff* ]]
	s3obj DELETE "$v2/.rg-trash/lease" >/dev/null
	sweep renew/app:1 | rg-rm -e "$RGW_ENDPOINT" --min-age 0s > /dev/null 2>&1
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/")" ]
}

@test "S3: a lease from another host lapses after its ttl; one of a process of this host that is gone is taken over at once" {
	local v2=rg/prefix/docker/registry/v2 dead
	sweep > "$BATS_TEST_TMPDIR/plan"
	s3obj PUT "$v2/.rg-trash/lease" '{"run":"0123456789abcdef0123456789abcdef","host":"elsewhere","boot":"b","pidns":"pid:[1]","pid":1,"pid_start":1,"started":"2026-01-01T00:00:00Z","ttl":3}' >/dev/null
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	[[ "$stderr" == *"another rg-rm holds the lease (.rg-trash/lease): run 0123456789abcdef0123456789abcdef on elsewhere, pid 1, since 2026-01-01T00:00:00Z"* ]]
	sleep 4
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[[ "$stderr" == *".rg-trash/lease: the lease of a run that ended without letting it go was taken over"* ]]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/")" ]
	# this host's, a process gone: at once, whatever its ttl
	sh -c 'exit 0' & dead=$!
	wait "$dead"
	s3obj PUT "$v2/.rg-trash/lease" "{\"run\":\"fedcba9876543210fedcba9876543210\",\"host\":\"$(hostname)\",\"boot\":\"$(cat /proc/sys/kernel/random/boot_id)\",\"pidns\":\"$(readlink /proc/self/ns/pid)\",\"pid\":$dead,\"pid_start\":1,\"started\":\"2026-01-01T00:00:00Z\",\"ttl\":600}" >/dev/null
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[[ "$stderr" == *"was taken over"* ]]
	# and one of this host's that is alive (this shell) is not
	s3obj PUT "$v2/.rg-trash/lease" "{\"run\":\"fedcba9876543210fedcba9876543210\",\"host\":\"$(hostname)\",\"boot\":\"$(cat /proc/sys/kernel/random/boot_id)\",\"pidns\":\"$(readlink /proc/self/ns/pid)\",\"pid\":$$,\"pid_start\":$(cut -d' ' -f22 /proc/$$/stat),\"started\":\"2026-01-01T00:00:00Z\",\"ttl\":600}" >/dev/null
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	[[ "$stderr" == *"another rg-rm holds the lease"* ]]
	s3obj DELETE "$v2/.rg-trash/lease" >/dev/null
}

@test "S3: examples/nightly with the registry's config.yml sweeps the bucket it names (examples/rg-s3.cron)" {
	local L=$BATS_FILE_TMPDIR/layout EX=$BATS_TEST_DIRNAME/../examples line
	line=$(grep -v '^#' "$EX/rg-s3.cron" | grep rg-nightly)
	[[ "$line" =~ ^[0-9*]+\ [0-9*]+\ \*\ \*\ \*[[:space:]]+root[[:space:]]+RG_CONFIG=[^\ ]+\ RG_LOG=[^\ ]+\ /usr/local/bin/rg-nightly$ ]]
	# the frequent recovery beside it, run as written on this bucket
	line=$(grep -v '^#' "$EX/rg-s3.cron" | grep -- --recover)
	line=${line#*root}
	line=${line%% 2>>*}
	line=${line//\/etc\/docker\/registry\/config.yml/$BATS_FILE_TMPDIR/gc.yml}
	line=${line//s3:\/\/registry-bucket\/registry/$U}
	line=${line//\/usr\/local\/bin\/rg-rm/rg-rm}
	run --separate-stderr $line
	assert_success
	[ -z "$stderr" ]
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" ny amd64 2023-06-01T00:00:00Z nightly-over
	push "$L:ny" nightly/app:1
	push "$L:plain" nightly/app:1
	registry_stop
	sleep 1		# (what was pushed in the scan's second is kept)
	RG_CONFIG=$BATS_FILE_TMPDIR/gc.yml RG_LOG=$BATS_TEST_TMPDIR/log RG_STOP= RG_START= \
		RG_MIN_AGE=0s RG_QUARANTINE= run "$EX/nightly"	# (nothing held: later tests look at .rg-trash)
	assert_success
	grep -q "rg nightly: the storage of $BATS_FILE_TMPDIR/gc.yml" "$BATS_TEST_TMPDIR/log/rg.log"
	grep -q 'rg nightly: exit 0$' "$BATS_TEST_TMPDIR/log/rg.log"
	# the manifest tagged over went from the bucket, the tag stays and pulls
	jq -se --arg u "$U" '(.[-1].type == "rm-total" and .[-1].root == $u) and
		([.[] | select(.type == "rm" and .repo == "nightly/app" and
		.object == "manifest" and .result == "deleted")] | length == 1)' \
		"$BATS_TEST_TMPDIR/log/$(date -u +%F).jsonl"
	pull_all > /dev/null
}

@test "S3: killed at any moment (SIGKILL), every surviving image still pulls and a rerun finishes" {
	local L=$BATS_FILE_TMPDIR/layout delay i
	for delay in 0.1 0.4 0.8 1.2; do
		registry_start "$BATS_TEST_TMPDIR/reg"
		for i in 1 2 3; do	# garbage: images of their own, tagged over
			mkimage "$L" "k$i" amd64 2023-02-0${i}T00:00:00Z "kill-$delay-$i"
			push "$L:k$i" "killed/k$i:1"
			push "$L:plain" "killed/k$i:1"
		done
		registry_stop
		sweep > "$BATS_TEST_TMPDIR/plan"
		rg-rm -e "$RGW_ENDPOINT" --min-age 0s < "$BATS_TEST_TMPDIR/plan" \
			> "$BATS_TEST_TMPDIR/audit" 2>/dev/null &
		sleep "$delay"
		kill -9 $! 2>/dev/null || true
		wait $! 2>/dev/null || true
		pull_all > /dev/null
	done
	# killed with objects set aside (in its wait): the next run puts them
	# back (tried again when a slow machine let the run end first)
	local try left=
	for try in 1 2 3; do
		registry_start "$BATS_TEST_TMPDIR/reg"
		mkimage "$L" "k9$try" amd64 2023-02-09T00:00:00Z "kill-pending-$try"
		push "$L:k9$try" "killed/k9$try:1"
		push "$L:plain" "killed/k9$try:1"
		registry_stop
		sweep > "$BATS_TEST_TMPDIR/plan"
		kill_when_pending '?*'
		left=$("$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix/docker/registry/v2/.rg-trash/pending/)
		[ -z "$left" ] || break
	done
	[ -n "$left" ]
	pull_all > /dev/null	# (what is pending is not needed by a tag)
	# --recover: put back, nothing else (a frequent timer's job)
	run --separate-stderr rg-rm --recover -e "$RGW_ENDPOINT" -r "$U" < /dev/null
	assert_success
	[[ $stderr == *"put back "*" objects a killed run had moved away"* ]]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix/docker/registry/v2/.rg-trash/)" ]
	[ -z "$output" ]
	run --separate-stderr rg-rm --recover -e "$RGW_ENDPOINT" -r "$U" < /dev/null
	assert_success
	[ -z "$stderr" ]
	run --separate-stderr rg-rm --recover -n -r "$U"
	assert_failure 2
	# reruns converge: nothing left for the collector, nothing set aside
	sweep | rg-rm -e "$RGW_ENDPOINT" --min-age 0s > /dev/null 2>&1
	sweep | rg-rm -e "$RGW_ENDPOINT" --min-age 0s > /dev/null 2>&1
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix/docker/registry/v2/.rg-trash/)" ]
	env -u AWS_CA_BUNDLE docker-registry garbage-collect --dry-run \
		"$BATS_FILE_TMPDIR/gc.yml" > "$BATS_TEST_TMPDIR/gc"
	grep -q '0 blobs and 0 manifests eligible for deletion' "$BATS_TEST_TMPDIR/gc"
	pull_all > /dev/null
}

@test "S3: --quarantine holds what a policy deletes, rg-restore puts it back; recovery leaves it; an ended quarantine is purged" {
	local L=$BATS_FILE_TMPDIR/layout v2=rg/prefix/docker/registry/v2 run_id d1
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" q1 amd64 2023-07-01T00:00:00Z quarantine-1
	push "$L:q1" held/app:1
	d1=$(remote_digest held/app:1)
	registry_stop
	sleep 1		# (what was pushed in the scan's second is kept)
	sweep held/app:1 > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -e "$RGW_ENDPOINT" --min-age 0s --quarantine 7d < "$BATS_TEST_TMPDIR/plan"
	assert_success
	echo "$output" > "$BATS_TEST_TMPDIR/audit"
	run_id=$(tail -1 "$BATS_TEST_TMPDIR/audit" | jq -r .run)
	[[ $run_id =~ ^[0-9a-f]{32}$ ]]
	[ "$(jq -s '[.[] | select(.type == "rm" and .result == "deleted")] | length' "$BATS_TEST_TMPDIR/audit")" -gt 3 ]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/held/app/_manifests/tags/")" ]
	[[ $("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/quarantine/$run_id/") == *"/closed "* ]]
	# the scan says what is held; a run's recovery leaves it (--recover)
	rg-scan -e "$RGW_ENDPOINT" "$U" | jq -se --arg r "$run_id" 'any(.[]; .type == "quarantine" and .run == $r and .objects > 0)'
	run --separate-stderr rg-rm --recover -e "$RGW_ENDPOINT" -r "$U"
	assert_success
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/repositories/held/app/_manifests/tags/")" ]
	# put back: the tag pulls the same image
	run --separate-stderr rg-restore -e "$RGW_ENDPOINT" < "$BATS_TEST_TMPDIR/audit"
	assert_success
	[ "$(jq -s '[.[] | select(.result != "restored")] | length' <<<"$output")" -eq 0 ]
	registry_start "$BATS_TEST_TMPDIR/reg"
	assert_equal "$(remote_digest held/app:1)" "$d1"
	pulls held/app:1
	registry_stop
	# deleted again with a short quarantine, which ends: the next run removes it
	sleep 1
	sweep held/app:1 > "$BATS_TEST_TMPDIR/plan"
	rg-rm -e "$RGW_ENDPOINT" --min-age 0s --quarantine 1s < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit2" 2>/dev/null
	run_id=$(tail -1 "$BATS_TEST_TMPDIR/audit2" | jq -r .run)
	sleep 2
	run --separate-stderr rg-rm --purge-quarantine -e "$RGW_ENDPOINT" -r "$U"
	assert_success
	[[ $stderr == *"quarantine/$run_id: the quarantine of the run of "*" ended"* ]]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/quarantine/$run_id/")" ]
	[ -z "$("$BATS_TEST_DIRNAME/s3tool" keys rg-test "$v2/.rg-trash/pending/$run_id")" ]
	run --separate-stderr rg-restore -e "$RGW_ENDPOINT" < "$BATS_TEST_TMPDIR/audit2"
	assert_failure 1
	pull_all > /dev/null
}

@test "S3: rg-restore killed at its requests (SIGKILL): every tag the registry lists pulls whole, and a rerun finishes" {
	local L=$BATS_FILE_TMPDIR/layout at t d1 d2
	registry_start "$BATS_TEST_TMPDIR/reg"
	mkimage "$L" k1 amd64 2023-07-02T00:00:00Z killed-restore-1
	mkimage "$L" k2 arm64 2023-07-03T00:00:00Z killed-restore-2
	push "$L:k1" held/k1:1
	push "$L:k2" held/k2:1
	push "$L:k2" held/k2:2
	d1=$(remote_digest held/k1:1)
	d2=$(remote_digest held/k2:1)
	registry_stop
	sleep 1
	sweep held/k1:1 held/k2:1 held/k2:2 > "$BATS_TEST_TMPDIR/plan"
	rg-rm -e "$RGW_ENDPOINT" --min-age 0s --quarantine 7d < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" 2>/dev/null
	for at in 4 9 15 22 30 45 60; do
		strace -f -o /dev/null -e trace=sendto -e inject=sendto:signal=KILL:when=$at \
			rg-restore -e "$RGW_ENDPOINT" < "$BATS_TEST_TMPDIR/audit" > /dev/null 2>&1 || true
		registry_start "$BATS_TEST_TMPDIR/reg"
		for t in $(listed); do
			pulls "$t"
		done
		registry_stop
	done
	run --separate-stderr rg-restore -e "$RGW_ENDPOINT" < "$BATS_TEST_TMPDIR/audit"
	assert_success
	[ "$(jq -s '[.[] | select(.result != "restored" and .result != "skipped")] | length' <<<"$output")" -eq 0 ]
	registry_start "$BATS_TEST_TMPDIR/reg"
	assert_equal "$(remote_digest held/k1:1)" "$d1"
	assert_equal "$(remote_digest held/k2:2)" "$d2"
	pulls held/k1:1 held/k2:1 held/k2:2
	registry_stop
}
