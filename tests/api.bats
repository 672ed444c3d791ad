# rg-scan through the registry's HTTP API, on the real registry: the same
# records as a storage scan; pagination; Basic auth; TLS.

setup_file() {
	load helpers
	mix_storage "$BATS_FILE_TMPDIR"
}

setup() {
	load helpers
	mix_copy
}

teardown() {
	registry_stop
}

# the records both scans have, in one order: what only storage knows left out
comparable() {
	jq -c 'select(.type == "repo" or .type == "tag" or .type == "manifest") |
		del(.pushed)' | LC_ALL=C sort
}

# the storage scan's, less the untagged manifests no index or subject reaches
storage_view() {
	rg-scan "$R/data" | jq -c -s '
		[.[] | select(.type == "manifest")] as $m |
		([$m[].manifests[]] + [$m[] | select(.subject) | .digest]) as $reached |
		.[] | select(.type != "manifest" or .tags != [] or
			(.digest as $d | $reached | index($d)))' | comparable
}

@test "an API scan has the records of a storage scan, less what only storage knows" {
	registry_start "$R"
	run --separate-stderr rg-scan "http://$REG"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(head -1 <<<"$output" | jq -c '[.type, .source, .root]')" \
		"[\"scan\",\"api\",\"http://$REG\"]"
	assert_equal "$(tail -1 <<<"$output")" '{"type":"scan-end","complete":true}'
	assert_equal "$(comparable <<<"$output")" "$(storage_view)"
	# over's two earlier images are untagged: only storage lists them
	assert_equal "$(jq -c 'select(.type == "manifest" and .repo == "over")' <<<"$output" | wc -l)" 1
	# no blob, layer or upload records, no push times
	assert_equal "$(jq -r 'select(.type == "blob" or .type == "layer" or .type == "upload" or .pushed) | .type' <<<"$output")" ""
}

@test "pages of one record, one job or eight: the same records" {
	registry_start "$R"
	rg-scan "http://$REG" | comparable > "$BATS_TEST_TMPDIR/all"
	run rg-scan --page-size 1 -j 1 "http://$REG"
	assert_success
	assert_equal "$(comparable <<<"$output")" "$(cat "$BATS_TEST_TMPDIR/all")"
	run rg-scan -j 8 "http://$REG"
	assert_success
	assert_equal "$(comparable <<<"$output")" "$(cat "$BATS_TEST_TMPDIR/all")"
	# the records of each repository come together
	assert_equal "$(jq -r 'select(.repo) | .repo' <<<"$output" | uniq | sort | uniq -d)" ""
}

@test "--repo filters the catalog; rg-refs on an API scan marks no blob" {
	registry_start "$R"
	run rg-scan -r '^team/' "http://$REG"
	assert_success
	assert_equal "$(jq -r 'select(.type == "repo") | .repo' <<<"$output")" team/app
	run --separate-stderr bash -c "rg-scan 'http://$REG' | rg-select over | rg-refs"
	assert_success
	assert_equal "$(jq -r 'select(.delete == true) | "\(.type) \(.repo)"' <<<"$output" | sort | uniq -c | awk '{ print $1, $2, $3 }')" \
		"$(printf '1 manifest over\n1 tag over')"
}

@test "a repository that cannot be read is reported, the rest scanned: exit 1, scan-end incomplete" {
	# a tag whose manifest's revision link is gone: the registry answers 404
	d=$(awk '$1 == "team:v2" { print $2 }' "$BATS_FILE_TMPDIR/pushed")
	rm -r "$R/data/docker/registry/v2/repositories/team/_manifests/revisions/sha256/${d#sha256:}"
	registry_start "$R"
	run --separate-stderr rg-scan "http://$REG"
	assert_failure 1
	assert_equal "$stderr" "rg-scan: http://$REG/v2/team/manifests/v2: manifest: HTTP 404"
	assert_equal "$(tail -1 <<<"$output")" '{"type":"scan-end","complete":false}'
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 10
}

@test "Basic auth (htpasswd): refused without credentials; --user, RG_USER, docker config.json" {
	htpasswd -Bbn alice 's3cret pass' > "$BATS_TEST_TMPDIR/htpasswd"
	REG_AUTH="{htpasswd: {realm: rg-test, path: $BATS_TEST_TMPDIR/htpasswd}}" registry_start "$R"
	run --separate-stderr env HOME="$BATS_TEST_TMPDIR" rg-scan "http://$REG"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: http://$REG/v2/_catalog?n=1000: catalog: HTTP 401"
	run env HOME="$BATS_TEST_TMPDIR" RG_PASSWORD='s3cret pass' rg-scan -u alice "http://$REG"
	assert_success
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 11
	run env HOME="$BATS_TEST_TMPDIR" RG_USER=alice RG_PASSWORD='s3cret pass' rg-scan "http://$REG"
	assert_success
	mkdir "$BATS_TEST_TMPDIR/.docker"
	printf '{"auths": {"%s": {"auth": "%s"}}}' "$REG" "$(printf 'alice:s3cret pass' | base64)" \
		> "$BATS_TEST_TMPDIR/.docker/config.json"
	run --separate-stderr env HOME="$BATS_TEST_TMPDIR" rg-scan "http://$REG"
	assert_success
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 11
	# a wrong password: refused, and the password is not printed
	run --separate-stderr env HOME=/nonexistent rg-scan -u 'alice:wrong' "http://$REG"
	assert_failure 2
	[[ "$stderr" != *wrong* ]]
}

@test "credentials from a docker-credential helper (credsStore, credHelpers): the server on its stdin" {
	t=$BATS_TEST_TMPDIR
	htpasswd -Bbn alice 's3cret pass' > "$t/htpasswd"
	REG_AUTH="{htpasswd: {realm: rg-test, path: $t/htpasswd}}" registry_start "$R"
	mkdir "$t/bin" "$t/.docker"
	cat > "$t/bin/docker-credential-rgtest" <<-'EOF'
	#!/bin/sh
	# the helper protocol: "get" its only argument, the server on stdin
	[ "$#" = 1 ] && [ "$1" = get ] || exit 1
	read -r server || true
	echo "$server" >> "$HELPER_LOG"
	printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret pass"}\n' "$server"
	EOF
	chmod +x "$t/bin/docker-credential-rgtest"
	for cfg in '{"credsStore": "rgtest"}' "{\"credHelpers\": {\"$REG\": \"rgtest\"}}"; do
		echo "$cfg" > "$t/.docker/config.json"
		: > "$t/helper.log"
		run env PATH="$t/bin:$PATH" HOME="$t" HELPER_LOG="$t/helper.log" rg-scan "http://$REG"
		assert_success
		assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 11
		assert_equal "$(cat "$t/helper.log")" "$REG"
	done
}

@test "token auth: the Bearer flow from the registry's challenge; a token per scope, asked again once expired" {
	t=$BATS_TEST_TMPDIR
	for expires in 300 3; do
		issuer_start "$t" "$expires"
		REG_AUTH=$ISSUER_AUTH registry_start "$R"
		run --separate-stderr env HOME="$t" rg-scan "http://$REG"
		assert_failure 2
		assert_equal "$stderr" "rg-scan: http://$REG/v2/_catalog?n=1000: catalog: HTTP 401: no token from the registry's auth server"
		run env HOME="$t" rg-scan -j 1 -u 'alice:pw d' "http://$REG"
		kill "$ISSUER_PID"
		registry_stop
		assert_success
		assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 11
		if [ "$expires" = 300 ]; then
			# one token for the catalog, one per repository: not one per request
			assert_equal "$(wc -l < "$t/tokens.log")" "$(sort -u "$t/tokens.log" | wc -l)"
			assert_equal "$(sort -u "$t/tokens.log" | wc -l)" 9
		else
			# too close to expiry to be used again: asked for each request
			[ "$(wc -l < "$t/tokens.log")" -gt 9 ]
		fi
	done
}

@test "TLS: a self-signed certificate is refused; --cacert, certs.d, --insecure; client certificates" {
	t=$BATS_TEST_TMPDIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rg-test-ca \
		-keyout "$t/ca.key" -out "$t/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' > "$t/ext"
	openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" \
		-CAcreateserial -days 2 -extfile "$t/ext" -out "$t/server.crt" 2>/dev/null
	REG_TLS="{certificate: $t/server.crt, key: $t/server.key}" registry_start "$R"
	run --separate-stderr env RG_CERTS_DIR="$t/none" rg-scan "https://$REG"
	assert_failure 2
	[[ "$stderr" == "rg-scan: https://$REG/v2/_catalog?n=1000: catalog: "*"certificate"* ]]
	run env RG_CERTS_DIR="$t/none" rg-scan --cacert "$t/ca.crt" "https://$REG"
	assert_success
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 11
	mkdir -p "$t/certs.d/$REG"
	cp "$t/ca.crt" "$t/certs.d/$REG/ca.crt"
	run env RG_CERTS_DIR="$t/certs.d" rg-scan "https://$REG"
	assert_success
	run env RG_CERTS_DIR="$t/none" rg-scan -k "https://$REG"
	assert_success
	registry_stop
	# a registry that asks for a client certificate: --cert and --key, or certs.d
	openssl req -newkey rsa:2048 -nodes -subj /CN=rg-client \
		-keyout "$t/client.key" -out "$t/client.csr" 2>/dev/null
	openssl x509 -req -in "$t/client.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" \
		-CAcreateserial -days 2 -out "$t/client.cert" 2>/dev/null
	REG_TLS="{certificate: $t/server.crt, key: $t/server.key, clientcas: [$t/ca.crt]}" registry_start "$R"
	run env RG_CERTS_DIR="$t/none" rg-scan --cacert "$t/ca.crt" --cert "$t/client.cert" \
		--key "$t/client.key" "https://$REG"
	assert_success
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 11
	mkdir -p "$t/certs2.d/$REG"
	cp "$t/ca.crt" "$t/client.cert" "$t/client.key" "$t/certs2.d/$REG/"
	run env RG_CERTS_DIR="$t/certs2.d" rg-scan "https://$REG"
	assert_success
	assert_equal "$(jq -c 'select(.type == "tag")' <<<"$output" | wc -l)" 11
}

@test "429 and 500 answers are tried again (Retry-After honoured): the same records" {
	registry_start "$R"
	rg-scan "http://$REG" | comparable > "$BATS_TEST_TMPDIR/direct"
	proxy_start "$REG" 429,500,503 "$BATS_TEST_TMPDIR/log"
	: > "$BATS_TEST_TMPDIR/log"
	run --separate-stderr rg-scan -j 1 "http://$PROXY"
	kill "$PROXY_PID"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(comparable <<<"$output" | sed "s|$PROXY|$REG|g")" "$(cat "$BATS_TEST_TMPDIR/direct")"
	# the catalog was asked four times: three failures, then the answer
	assert_equal "$(head -4 "$BATS_TEST_TMPDIR/log" | cut -d' ' -f1 | paste -sd' ')" "429 500 503 200"
	assert_equal "$(head -4 "$BATS_TEST_TMPDIR/log" | cut -d' ' -f2 | sort -u)" "/v2/_catalog?n=1000"
}

@test "errors: a bad --jobs, nothing listening, --help" {
	run --separate-stderr rg-scan -j 0 http://127.0.0.1:1
	assert_failure 2
	assert_equal "$stderr" "rg-scan: --jobs: 0: not a number from 1 to 64"
	run --separate-stderr rg-scan http://127.0.0.1:1
	assert_failure 2
	[[ "$stderr" == "rg-scan: http://127.0.0.1:1/v2/_catalog?n=1000: catalog: "*"onnect"* ]]
	run rg-scan --help
	assert_success
	assert_output --partial " url"
}

@test "an empty registry: a scan and its end, nothing else" {
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	registry_start "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr rg-scan "http://$REG"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -r .type <<<"$output" | paste -sd' ')" "scan scan-end"
}
