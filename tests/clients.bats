# What real clients put in a registry beside images, on a real registry:
# cosign-layout signatures, attestations and SBOMs (sha256-<hex>.sig, .att,
# .sbom), the OCI 1.1 referrers fallback (an artifact with a subject, listed
# by an index at the tag sha256-<hex>), Helm charts, a buildx index with
# attestation manifests, reproducible images created in 1970, and a
# Windows-style image with a foreign layer.  tests/clients pushes each in
# its client's published layout and verifies signatures as cosign does
# (Debian's skopeo has sigstore turned off: see tests/clients).

setup_file() {
	load helpers
	local L=$BATS_FILE_TMPDIR/layout D=$BATS_FILE_TMPDIR i
	REG_VALIDATION='{manifests: {urls: {allow: ["^https://"]}}}' registry_start "$D/reg"
	echo "$REG" > "$D/reg.addr"
	"$BATS_TEST_DIRNAME"/clients key "$D" >/dev/null
	# signed/app: v1..v5, each signed; v5 signed twice (the first .sig
	# manifest left untagged), v4 and v5 attested, v5 with an SBOM
	for i in 1 2 3 4 5; do
		mkimage "$L" "v$i" amd64 "2024-01-0${i}T00:00:00Z"
		push "$L:v$i" "signed/app:v$i"
		"$BATS_TEST_DIRNAME"/clients sign "$D/key.pem" "$REG" signed/app "v$i" >/dev/null
	done
	"$BATS_TEST_DIRNAME"/clients sign "$D/key.pem" "$REG" signed/app v5 >/dev/null
	"$BATS_TEST_DIRNAME"/clients attest "$D/key.pem" "$REG" signed/app v4 >/dev/null
	"$BATS_TEST_DIRNAME"/clients attest "$D/key.pem" "$REG" signed/app v5 >/dev/null
	"$BATS_TEST_DIRNAME"/clients sbom "$REG" signed/app v5 >/dev/null
	# repro: o1..o3 built in 2024, then r1..r3 reproducible (1970), pushed
	# after them a second apart; r3 signed
	for i in 1 2 3; do
		mkimage "$L" "o$i" amd64 "2024-02-0${i}T00:00:00Z"
		push "$L:o$i" "repro:o$i"
	done
	for i in 1 2 3; do
		mkimage "$L" "r$i" amd64 1970-01-01T00:00:00Z
		sleep 1
		push "$L:r$i" "repro:r$i"
	done
	"$BATS_TEST_DIRNAME"/clients sign "$D/key.pem" "$REG" repro r3 >/dev/null
	# notary: OCI 1.1 signatures with a subject, and the fallback index
	for i in 1 2; do
		mkimage "$L" "n$i" amd64 "2024-03-0${i}T00:00:00Z"
		push "$L:n$i" "notary:n$i"
		"$BATS_TEST_DIRNAME"/clients referrer "$REG" notary "n$i" application/vnd.cncf.notary.signature \
			> "$D/notary-n$i"
	done
	# Helm charts
	for i in 1 2 3; do
		"$BATS_TEST_DIRNAME"/clients helm "$REG" charts/web "0.$i.0" >/dev/null
	done
	# buildx: an index with attestation manifests, pushed over once
	for i in 1 2; do
		mkimage "$L" "amd$i" amd64 "2024-04-0${i}T00:00:00Z"
		mkimage "$L" "arm$i" arm64 "2024-04-0${i}T00:00:00Z"
		push "$L:amd$i" "bx:amd64-$i"
		push "$L:arm$i" "bx:arm64-$i"
		"$BATS_TEST_DIRNAME"/clients buildx "$REG" bx latest "amd64-$i" "arm64-$i" > "$D/bx-$i"
	done
	# a Windows-style image: its base layer is foreign
	"$BATS_TEST_DIRNAME"/clients foreign "$REG" win ltsc > "$D/win"
	# gone: a signed image deleted through the API, its signature left behind
	mkimage "$L" g1 amd64 2024-05-01T00:00:00Z
	mkimage "$L" g2 amd64 2024-05-02T00:00:00Z
	push "$L:g1" gone:g1
	push "$L:g2" gone:g2
	"$BATS_TEST_DIRNAME"/clients sign "$D/key.pem" "$REG" gone g1 > "$D/gone-sig"
	remote_digest gone:g1 > "$D/gone-g1"
	curl -fsS -X DELETE "http://$REG/v2/gone/manifests/$(cat "$D/gone-g1")"
	# cosign-store: signatures alone, as COSIGN_REPOSITORY leaves them
	push "$L:g1" cosign-store:x
	"$BATS_TEST_DIRNAME"/clients sign "$D/key.pem" "$REG" cosign-store x > "$D/store-sig"
	curl -fsS -X DELETE "http://$REG/v2/cosign-store/manifests/$(remote_digest cosign-store:x)"
	# un: a signed image pushed over, its signature still there
	mkimage "$L" u1 amd64 2024-06-01T00:00:00Z
	mkimage "$L" u2 amd64 2024-06-02T00:00:00Z
	push "$L:u1" un:latest
	"$BATS_TEST_DIRNAME"/clients sign "$D/key.pem" "$REG" un latest >/dev/null
	remote_digest un:latest > "$D/un-u1"
	push "$L:u2" un:latest
	sleep 1		# rg-rm keeps what was written in the second of its scan
	rg-scan "$REG_DATA" > "$D/scan"
}

teardown_file() {
	load helpers
	registry_stop
}

setup() {
	load helpers
	S=$BATS_FILE_TMPDIR/scan
	REG=$(cat "$BATS_FILE_TMPDIR/reg.addr")
}

# marked TYPE: "repo key" of the records marked for deletion, sorted
marked() {
	jq -r --arg t "$1" 'select(.type == $t and .delete == true) |
		"\(.repo) \(.tag // .digest)"' | LC_ALL=C sort
}

# sigs REPO TAG...: the referrer tags of those tags' images, sorted
sigs() {
	local repo=$1 t
	shift
	for t in "$@"; do
		jq -r --arg r "$repo" --arg t "$t" 'select(.type == "tag" and .repo == $r and .tag == $t) |
			.digest | sub(":"; "-") as $p | $p' "$S"
	done | while read -r p; do
		jq -r --arg r "$repo" --arg p "$p" 'select(.type == "tag" and .repo == $r and (.tag | startswith($p))) | "\(.repo) \(.tag)"' "$S"
	done | LC_ALL=C sort
}

@test "the scan: every client's manifests read, none an error" {
	run rg-scan "$REG_DATA"
	assert_success
	[ "$(jq -s 'map(select(.error)) | length' "$S")" -eq 0 ]
	# a .sig of each of signed/app's five, of repro:r3, of un's first
	# image, of gone's deleted one, and of cosign-store's
	[ "$(jq -r 'select(.type == "tag" and (.tag | test("^sha256-[0-9a-f]{64}\\.sig$"))) | .repo' "$S" | sort | uniq -c | tr -s ' ')" = \
		"$(printf ' 1 cosign-store\n 1 gone\n 1 repro\n 5 signed/app\n 1 un')" ]
}

@test "referrer tags are not versions: --keep 2 keeps the two newest images, and their signatures" {
	run rg-select -o --keep 2 --repo '^signed/app$' < "$S"
	assert_success
	assert_equal "$(marked tag <<<"$output")" "$(printf 'signed/app v%s\n' 1 2 3)"
	run bash -c "rg-select --keep 2 --repo '^signed/app\$' < '$S' | rg-refs 2>/dev/null"
	assert_equal "$(marked tag <<<"$output" | grep -v ' v' | grep '^signed/app ')" "$(sigs signed/app v1 v2 v3)"
	# each with its reason; those of v4 and v5 (.sig, .att, .sbom) unmarked
	assert_equal "$(jq -r 'select(.type == "tag" and .delete == true and .repo == "signed/app" and (.tag | startswith("sha256-"))) | .reason' <<<"$output" | sort -u)" \
		referrer-of-deleted
	[ "$(sigs signed/app v4 v5 | wc -l)" -eq 5 ]
	for t in $(sigs signed/app v4 v5 | cut -d' ' -f2); do
		assert_equal "$(jq -r --arg t "$t" 'select(.type == "tag" and .tag == $t) | .delete // false' <<<"$output")" false
	done
}

@test "no tag criterion marks or counts a referrer tag" {
	local args
	for args in "--tag ." "--before 2100-01-01" "--after 2000-01-01" "--where 'size > 0'" \
		"--keep 1 --group '^(v)'" "--keep 1 --order pushed" "--keep 1 --order name" \
		"--untagged"; do
		run bash -c "rg-select -o $args < '$S'"
		assert_success
		[ -z "$(jq -r 'select(.delete == true and .type == "tag" and (.tag | startswith("sha256-"))) | .tag' <<<"$output")" ]
		[ -z "$(jq -r 'select(.delete == true and .type == "manifest" and .subject) | .digest' <<<"$output")" ]
	done
	# --not-pulled-for and --expires alike (a pull history that starts long ago)
	run bash -c "jq -c 'if .type == \"scan\" then .pulls_since = \"2000-01-01T00:00:00Z\" else . end' '$S' |
		rg-select -o --not-pulled-for 0s --repo '^signed/app\$'"
	assert_equal "$(marked tag <<<"$output")" "$(printf 'signed/app v%s\n' 1 2 3 4 5)"
}

@test "reproducible builds: a creation time before 2013-03-20 is none, the push time orders them" {
	# the records keep what the config says
	run jq -r 'select(.type == "tag" and .repo == "repro") | "\(.tag) \(.created)"' "$S"
	assert_line "r1 1970-01-01T00:00:00Z"
	assert_line "o3 2024-02-03T00:00:00Z"
	# --keep 2 keeps the two pushed last, not two old builds
	run rg-select -o --keep 2 --repo '^repro$' < "$S"
	assert_equal "$(marked tag <<<"$output")" "$(printf 'repro %s\n' o1 o2 o3 r1)"
	# an age counts from the push: o1..o3 were created in 2024, r1..r3 now
	run rg-select -o --older-than 30d --repo '^repro$' < "$S"
	assert_equal "$(marked tag <<<"$output")" "$(printf 'repro %s\n' o1 o2 o3)"
	run rg-select -o --where 'age > 86400' --repo '^repro$' < "$S"
	assert_equal "$(marked tag <<<"$output")" "$(printf 'repro %s\n' o1 o2 o3)"
	# --where created sees the value as stored
	run rg-select -o --where 'created < "2000"' < "$S"
	assert_equal "$(marked tag <<<"$output")" "$(printf 'repro %s\n' r1 r2 r3)"
	# -v says the push time stood in
	run bash -c "rg-select -v --older-than 0s --repo '^repro\$' --tag '^r1\$' < '$S' 2>&1 >/dev/null"
	assert_output --regexp "^rg-select: tag repro:r1 marked: --repo matched; --tag matched; created unknown or before 2013-03-20, pushed 20[0-9-]+T[0-9:]+Z inside the time window$"
}

@test "the untagged sweep keeps every referrer of a survivor, and the attestations of a surviving index" {
	run bash -c "rg-select --untagged < '$S' | rg-refs 2>/dev/null"
	assert_success
	# the first .sig manifest of v5 (re-signed: untagged, no subject) goes;
	# so do the first buildx index and its attestation manifests
	local bx1 att1 att2 first_sig
	bx1=$(cat "$BATS_FILE_TMPDIR/bx-1")
	att1=$(jq -r --arg d "$bx1" 'select(.type == "manifest" and .digest == $d) | .manifests[1], .manifests[3]' "$S" | sort)
	att2=$(jq -r --arg d "$(cat "$BATS_FILE_TMPDIR/bx-2")" 'select(.type == "manifest" and .digest == $d) | .manifests[1], .manifests[3]' "$S" | sort)
	first_sig=$(jq -r 'select(.type == "manifest" and .repo == "signed/app" and .tags == [] and .artifact_type == "application/vnd.dev.cosign.simplesigning.v1+json") | .digest' "$S")
	[ "$(wc -l <<<"$first_sig")" -eq 1 ]
	assert_equal "$(marked manifest <<<"$output" | grep -v '^gone ')" \
		"$(printf '%s\n' "bx $bx1" "bx ${att1%%$'\n'*}" "bx ${att1##*$'\n'}" "signed/app $first_sig" \
			"un $(cat "$BATS_FILE_TMPDIR/un-u1")" "un $(jq -r --arg t "$(sed 's/:/-/' "$BATS_FILE_TMPDIR/un-u1").sig" 'select(.type == "tag" and .tag == $t) | .digest' "$S")" |
			LC_ALL=C sort)"
	# a signed image pushed over, untagged, goes with its signature
	assert_equal "$(marked tag <<<"$output" | grep '^un ')" "un $(sed 's/:/-/' "$BATS_FILE_TMPDIR/un-u1").sig"
	# the attestations of the index that stays are kept with it
	for d in $att2; do
		assert_equal "$(jq -r --arg d "$d" 'select(.type == "manifest" and .digest == $d) | "\(.delete) \(.kept)"' <<<"$output")" "false child-of-surviving-index"
		assert_equal "$(jq -r --arg d "$d" 'select(.type == "manifest" and .digest == $d) | .artifact_type' "$S")" application/vnd.in-toto+json
	done
	# OCI 1.1 referrers, untagged: not candidates, and kept
	for f in notary-n1 notary-n2; do
		assert_equal "$(jq -r --arg d "$(cat "$BATS_FILE_TMPDIR/$f")" 'select(.type == "manifest" and .digest == $d) | .delete // false' <<<"$output")" false
	done
}

@test "deleting a version deletes its referrers: the OCI 1.1 artifact and its fallback index" {
	run bash -c "rg-select notary:n1 < '$S' | rg-refs 2>/dev/null"
	local n1 idx
	n1=$(jq -r 'select(.type == "tag" and .tag == "n1") | .digest' "$S")
	idx=$(jq -r --arg t "${n1/:/-}" 'select(.type == "tag" and .tag == $t) | .digest' "$S")
	assert_equal "$(marked tag <<<"$output" | grep '^notary ')" "$(printf 'notary %s\n' n1 "${n1/:/-}" | LC_ALL=C sort)"
	assert_equal "$(marked manifest <<<"$output" | grep '^notary ')" "$(printf 'notary %s\n' "$n1" "$idx" "$(cat "$BATS_FILE_TMPDIR/notary-n1")" | LC_ALL=C sort)"
	assert_equal "$(jq -r --arg d "$(cat "$BATS_FILE_TMPDIR/notary-n1")" 'select(.type == "manifest" and .digest == $d) | .reason' <<<"$output")" referrer-of-deleted
}

@test "a referrer whose subject is gone goes with it; a repository of signatures alone stays" {
	run --separate-stderr bash -c "rg-refs < '$S'"
	assert_success
	local sig
	sig=$(cat "$BATS_FILE_TMPDIR/gone-sig")
	assert_equal "$(marked tag <<<"$output")" "gone $(sed 's/:/-/' "$BATS_FILE_TMPDIR/gone-g1").sig"
	assert_equal "$(marked manifest <<<"$output")" "gone $sig"
	assert_equal "$(jq -r 'select(.delete == true and .repo == "gone" and .type != "layer") | .reason' <<<"$output" | sort -u)" subject-missing
	# cosign-store holds nothing but a signature: kept
	[ -z "$(jq -r 'select(.delete == true and .repo == "cosign-store" and .type != "layer") | .type' <<<"$output")" ]
}

@test "a protected image keeps its referrer tags, even selected with --referrers" {
	printf '%s/signed/app:v4\n' "$REG" > "$BATS_TEST_TMPDIR/inuse"
	run bash -c "rg-select -I '$BATS_TEST_TMPDIR/inuse' --referrers --tag . < '$S' | rg-refs 2>/dev/null"
	assert_success
	local t
	for t in $(sigs signed/app v4 | cut -d' ' -f2); do
		assert_equal "$(jq -r --arg t "$t" 'select(.type == "tag" and .tag == $t) | "\(.delete) \(.kept)"' <<<"$output")" "false referrer-of-protected"
	done
	# the other images' signatures were selected, and go
	assert_equal "$(marked tag <<<"$output" | grep '^signed/app ')" "$(sigs signed/app v1 v2 v3 v5)"
}

@test "--referrers prunes attestations themselves; the images and their signatures stay" {
	run bash -c "rg-select --referrers --tag '\\.att\$' < '$S' | rg-refs 2>/dev/null"
	assert_success
	assert_equal "$(marked tag <<<"$output" | grep -v '^gone ')" "$(sigs signed/app v4 v5 | grep '\.att$')"
	[ "$(marked manifest <<<"$output" | grep -vc '^gone ')" -eq 2 ]
	[ "$(jq -r 'select(.delete == true and .type == "manifest" and .repo != "gone") | .artifact_type' <<<"$output" | sort -u)" = application/vnd.dsse.envelope.v1+json ]
	# --referrers alone selects nothing: a criterion is needed
	run rg-select --referrers < "$S"
	assert_failure 2
}

@test "artifacts carry their type; Helm charts are selected with --where" {
	run jq -r 'select(.type == "tag") | "\(.repo):\(.tag | sub("^sha256-[0-9a-f]+"; "sha256-X")) \(.artifact_type // "-")"' "$S"
	assert_line "charts/web:0.1.0 application/vnd.cncf.helm.config.v1+json"
	assert_line "signed/app:sha256-X.sig application/vnd.dev.cosign.simplesigning.v1+json"
	assert_line "signed/app:sha256-X.att application/vnd.dsse.envelope.v1+json"
	assert_line "signed/app:sha256-X.sbom text/spdx+json"
	assert_line "signed/app:v1 -"
	assert_line "notary:sha256-X -"
	assert_equal "$(jq -r --arg d "$(cat "$BATS_FILE_TMPDIR/notary-n1")" 'select(.type == "manifest" and .digest == $d) | .artifact_type' "$S")" \
		application/vnd.cncf.notary.signature
	# a chart has no creation time: its push time stands in
	run rg-select -o --keep 1 --where 'artifact_type == "application/vnd.cncf.helm.config.v1+json"' < "$S"
	assert_equal "$(marked tag <<<"$output")" "$(printf 'charts/web 0.%s.0\n' 1 2)"
}

@test "foreign layers: the image is scanned whole; their blobs are neither missing nor planned" {
	local win fl
	win=$(cat "$BATS_FILE_TMPDIR/win")
	fl=$(jq -r --arg d "$win" 'select(.type == "manifest" and .digest == $d) | .foreign[]' "$S")
	[ -n "$fl" ]
	[ -z "$(jq -r --arg d "$fl" 'select(.type == "blob" and .digest == $d) | .digest' "$S")" ]
	run --separate-stderr bash -c "rg-select --untagged < '$S' | rg-refs"
	assert_success
	[ -z "$stderr" ] || [[ "$stderr" != *"does not have"* ]]
	[ -z "$(grep -F "$fl" <<<"$output" | jq -r 'select(.delete == true) | .type')" ]
	[ -z "$(jq -r 'select(.delete == true and .repo == "win") | .type' <<<"$output")" ]
}

@test "through the API: the same referrers go; reproducible builds, with no time at all, rank newest" {
	rg-scan "http://$REG" > "$BATS_TEST_TMPDIR/api"
	rg-select --keep 2 --repo '^(signed/app|repro)$' < "$S" | rg-refs 2>/dev/null |
		marked tag > "$BATS_TEST_TMPDIR/storage.marked"
	rg-select --keep 2 --repo '^(signed/app|repro)$' < "$BATS_TEST_TMPDIR/api" |
		rg-refs 2>/dev/null | marked tag > "$BATS_TEST_TMPDIR/api.marked"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/api.marked")" "$(cat "$BATS_TEST_TMPDIR/storage.marked")"
	# 7 tags, 3 signatures, and the signature whose image is gone
	[ "$(wc -l < "$BATS_TEST_TMPDIR/api.marked")" -eq 11 ]
	# the subject of un's signature is untagged: looked up by digest, there
	[ -z "$(grep '^un ' "$BATS_TEST_TMPDIR/api.marked")" ]
	[ -n "$(jq -r --arg d "$(cat "$BATS_FILE_TMPDIR/un-u1")" 'select(.type == "manifest" and .digest == $d) | .digest' "$BATS_TEST_TMPDIR/api")" ]
	# the subject gone: the same verdict; a store of signatures: kept
	run bash -c "rg-refs < '$BATS_TEST_TMPDIR/api' 2>/dev/null"
	assert_equal "$(marked tag <<<"$output")" "$(marked tag < <(rg-refs < "$S" 2>/dev/null))"
}

@test "the cleanup on a live registry: kept images pull and their signatures verify; the deleted ones' are gone" {
	local D=$BATS_FILE_TMPDIR t
	rg-scan "$REG_DATA" | rg-select --keep 2 --repo '^(signed/app|repro)$' |
		rg-select --untagged | rg-refs 2>/dev/null | rg-rm --min-age 0s > "$BATS_TEST_TMPDIR/audit"
	run curl -fsS "http://$REG/v2/signed/app/tags/list"
	assert_equal "$(jq -r '.tags[]' <<<"$output" | grep '^v' | sort | tr '\n' ' ')" "v4 v5 "
	[ "$(jq -r '.tags[]' <<<"$output" | grep -c '^sha256-')" -eq 5 ]
	for t in v4 v5; do
		pulls "signed/app:$t"
		"$BATS_TEST_DIRNAME"/clients verify "$D/key.pub" "$REG" signed/app "$t"
	done
	pulls repro:r2 repro:r3 bx:latest notary:n1 notary:n2
	"$BATS_TEST_DIRNAME"/clients verify "$D/key.pub" "$REG" repro r3
	# what went: v1..v3 and their signatures, by digest too
	for t in v1 v2 v3; do
		d=$(jq -r --arg t "$t" 'select(.type == "tag" and .repo == "signed/app" and .tag == $t) | .digest' "$S")
		run curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/signed/app/manifests/$d"
		assert_output 404
		run curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/signed/app/manifests/${d/:/-}.sig"
		assert_output 404
	done
	# the Windows image is still served, with the blobs it has here
	run curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REG/v2/win/manifests/ltsc"
	assert_success
	for d in $(jq -r '.config.digest, .layers[1].digest' <<<"$output"); do
		curl -fsS -o /dev/null "http://$REG/v2/win/blobs/$d"
	done
}
