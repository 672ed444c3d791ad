# rg-scan of a registry whose storage is on S3: a throwaway Ceph RADOS
# Gateway (tests/rgw) under the real registry on its s3 driver, images
# pushed with skopeo; checked against a filesystem scan of the same objects
# and against the registry's own collector on the bucket.

setup_file() {
	load helpers
	local d=$BATS_FILE_TMPDIR
	"$BATS_TEST_DIRNAME/rgw" "$d/rgw" start rg-test
	# shellcheck disable=SC1091
	. "$d/rgw/env"
	export RGW_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
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
	port=$((19000 + RANDOM % 1000))
	S3=1 "$BATS_TEST_DIRNAME/flaky-proxy" "$port" "${RGW_ENDPOINT#http://}" \
		503,503,500 "$BATS_TEST_TMPDIR/log" 3>&- &
	proxy=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.1
	done
	: > "$BATS_TEST_TMPDIR/log"
	run --separate-stderr rg-scan -e "http://127.0.0.1:$port" -j 1 "$U"
	kill "$proxy"
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

@test "S3: options that do not apply are usage errors" {
	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" "$BATS_TEST_TMPDIR"
	assert_failure 2
	[[ $stderr == *"--endpoint: applies to a scan of S3"* ]]
	run --separate-stderr rg-scan -u bob "$U"
	assert_failure 2
	[[ $stderr == *"--user: applies to a scan of a registry's URL, not of S3"* ]]
	run --separate-stderr rg-scan -e "$RGW_ENDPOINT" s3://Bad_Bucket
	assert_failure 2
	[[ $stderr == *"not s3://BUCKET[/ROOTDIR]"* ]]
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

@test "S3: rg-rm refuses a stream of S3 and deletes nothing" {
	"$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix > "$BATS_TEST_TMPDIR/before"
	rg-scan -e "$RGW_ENDPOINT" "$U" | rg-select --untagged | rg-refs \
		> "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr env AWS_ENDPOINT_URL="$RGW_ENDPOINT" \
		rg-rm --min-age 0 < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	[[ $stderr == *"a scan of s3: rg-rm deletes from storage or through the registry's API"* ]]
	"$BATS_TEST_DIRNAME/s3tool" keys rg-test rg/prefix |
		diff "$BATS_TEST_TMPDIR/before" -
}
