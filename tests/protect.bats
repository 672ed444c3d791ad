# Images in use are never deleted (issue 15, item 2): rg-select --protect
# with what kubectl says a cluster runs, on a real registry; rg-refs keeps
# what a protected record needs, with the reason "protected".

setup_file() {
	load helpers
	registry_start "$BATS_FILE_TMPDIR/reg"
	local L=$BATS_FILE_TMPDIR/layout i
	for i in a c d e f g h j; do mkimage "$L" "$i" amd64 "2020-01-0${#i}T00:00:00Z" "image $i"; done
	push "$L:a" app:1.0
	push "$L:c" app:old
	push "$L:d" app:gone
	push "$L:e" web:2
	push "$L:f" web:3
	push "$L:g" job:1
	push "$L:h" over:1
	remote_digest over:1 > "$BATS_FILE_TMPDIR/over-first"
	push "$L:j" over:1              # pushed over: the first is untagged
	rg-scan "$REG_DATA" > "$BATS_FILE_TMPDIR/scan"
	local old first
	old=$(remote_digest app:old) first=$(cat "$BATS_FILE_TMPDIR/over-first")
	# kubectl get pods,deployments,cronjobs -A -o json, as a cluster
	# would answer: a pod running app:1.0 (its status naming the digest it
	# runs, app:old's, as containerd does) with an init and an ephemeral
	# container; a pod still on over:1's first image (docker-shim's
	# docker-pullable:// form); a deployment's and a cronjob's templates;
	# images of other registries, one named like ours
	jq -n --arg r "$REG" --arg old "$old" --arg first "$first" '{
	  apiVersion: "v1", kind: "List", metadata: {resourceVersion: ""},
	  items: [
	    {apiVersion: "v1", kind: "Pod", metadata: {name: "app-0", namespace: "prod"},
	     spec: {containers: [{name: "app", image: "\($r)/app:1.0"}],
	            initContainers: [{name: "init", image: "busybox:1.36"}],
	            ephemeralContainers: [{name: "debug", image: "quay.io/app:gone"}]},
	     status: {phase: "Running",
	              containerStatuses: [{name: "app", image: "\($r)/app:1.0",
	                                   imageID: "\($r)/app@\($old)"}],
	              initContainerStatuses: [{name: "init", image: "docker.io/library/busybox:1.36",
	                                       imageID: "docker.io/library/busybox@sha256:\("0" * 64)"}]}},
	    {apiVersion: "v1", kind: "Pod", metadata: {name: "over-0", namespace: "prod"},
	     spec: {containers: [{name: "over", image: "\($r)/over:1"}]},
	     status: {containerStatuses: [{name: "over", image: "\($r)/over:1",
	                                   imageID: "docker-pullable://\($r)/over@\($first)"}]}},
	    {apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "web"},
	     spec: {template: {spec: {containers: [{name: "web", image: "\($r)/web:2"}]}}}},
	    {apiVersion: "batch/v1", kind: "CronJob", metadata: {name: "job"},
	     spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: "job", image: "\($r)/job:1"}]}}}}}}
	  ]}' > "$BATS_FILE_TMPDIR/cluster.json"
}

teardown_file() {
	load helpers
	registry_stop
}

setup() {
	load helpers
	S=$BATS_FILE_TMPDIR/scan
	K=$BATS_FILE_TMPDIR/cluster.json
}

# what a dry run would delete: "tag repo:tag" and "manifest repo@digest"
deleted() {
	jq -r 'select(.type == "rm") | if .object == "tag" then "tag \(.repo):\(.tag)" elif .object == "manifest" then "manifest \(.repo)" else empty end' | sort
}

@test "--protect kubectl JSON with --registry: every tag marked, only what no workload uses goes" {
	run --separate-stderr bash -c "rg-select --protect '$K' --registry '$REG' --tag . < '$S' | rg-refs | rg-rm -n --min-age 0s"
	assert_success
	# app:gone is named by quay.io's image only: not this registry's
	assert_equal "$(deleted <<<"$output")" "manifest app
manifest web
tag app:gone
tag web:3"
	run --separate-stderr rg-select --protect "$K" --registry "$REG" < "$S"
	assert_success
	assert_equal "$(jq -r 'select(.protected == true and .type == "tag") | "\(.repo):\(.tag)"' <<<"$output" | sort | tr '\n' ' ')" \
		"app:1.0 app:old job:1 over:1 web:2 "
	# their manifests, and over:1's first image, run by digest
	assert_equal "$(jq -r 'select(.protected == true and .type == "manifest") | "\(.repo):\(.tags)"' <<<"$output" | sort | tr '\n' ' ')" \
		'app:["1.0"] app:["old"] job:["1"] over:["1"] over:[] web:["2"] '
	# nothing else changed
	assert_equal "$(jq -c 'del(.protected)' <<<"$output")" "$(jq -c . "$S")"
}

@test "--protect without --registry: a reference of any host protects, to be safe" {
	run --separate-stderr bash -c "rg-select --protect '$K' --tag . < '$S' | rg-refs | rg-rm -n --min-age 0s"
	assert_success
	assert_equal "$(deleted <<<"$output")" "manifest web
tag web:3"
	run --separate-stderr bash -c "rg-select --protect '$K' --tag '^gone$' < '$S' | jq -r 'select(.tag == \"gone\") | [.protected, .delete] | @tsv'"
	assert_output "true	"
}

@test "a pod still on a pushed-over image keeps it through the untagged sweep" {
	local first
	first=$(cat "$BATS_FILE_TMPDIR/over-first")
	run --separate-stderr bash -c "rg-select --untagged < '$S' | rg-refs"
	assert_equal "$(jq -r --arg f "$first" 'select(.digest == $f and .type == "manifest") | .reason' <<<"$output")" selected
	# protected by a later stage: the mark stays, rg-refs keeps it
	run --separate-stderr bash -c "rg-select --untagged < '$S' | rg-select --protect '$K' | rg-refs -v"
	assert_success
	assert_equal "$(jq -c --arg f "$first" 'select(.digest == $f and .type == "manifest") | [.delete, .kept, .protected]' <<<"$output")" '[false,"protected",true]'
	[[ "$stderr" == *"marked, but kept: protected"* ]]
	# and its blobs with it
	run --separate-stderr bash -c "rg-select --untagged < '$S' | rg-select --protect '$K' | rg-refs | rg-rm -n --min-age 0s"
	assert_success
	assert_equal "$(deleted <<<"$output")" ""
}

@test "--protect a list of references: comments, hosts, tags and digests" {
	printf '# in use\n%s/web:3   # the canary\n\njob:1\n%s/app@%s\n' "$REG" "$REG" \
		"$(remote_digest app:gone)" > "$BATS_TEST_TMPDIR/refs"
	run --separate-stderr bash -c "rg-select --protect '$BATS_TEST_TMPDIR/refs' --tag . < '$S' | rg-refs | rg-rm -n --min-age 0s"
	assert_success
	assert_equal "$(deleted <<<"$output")" "manifest app
manifest app
manifest over
manifest web
tag app:1.0
tag app:old
tag over:1
tag web:2"
	# a line that is not a reference is an error, not skipped
	printf 'web:3\nWeb:Not A Reference\n' > "$BATS_TEST_TMPDIR/bad"
	run --separate-stderr rg-select --protect "$BATS_TEST_TMPDIR/bad" --tag . < "$S"
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "rg-select: $BATS_TEST_TMPDIR/bad:2: Web:Not A Reference: not an image reference"
}

@test "--protect: errors" {
	run --separate-stderr rg-select --protect - < "$S"
	assert_failure 2
	assert_equal "$stderr" "rg-select: --protect: -: standard input carries the records: give a file, or <(kubectl get pods -A -o json)"
	run --separate-stderr rg-select --protect "$BATS_TEST_TMPDIR/nothere" < "$S"
	assert_failure 2
	assert_equal "$stderr" "rg-select: $BATS_TEST_TMPDIR/nothere: No such file or directory"
	printf '{"items": [' > "$BATS_TEST_TMPDIR/cut.json"
	run --separate-stderr rg-select --protect "$BATS_TEST_TMPDIR/cut.json" < "$S"
	assert_failure 2
	[[ "$stderr" == "rg-select: $BATS_TEST_TMPDIR/cut.json:1: "* ]]
	run --separate-stderr rg-select --registry "$REG" --tag . < "$S"
	assert_failure 2
	[[ "$stderr" == "rg-select: --registry: says which references of --protect name this registry: give --protect too"* ]]
	# an image of the JSON that is no reference: said, exit 1, the rest protected
	jq '.items[0].spec.containers[0].image = "Not/A Ref"' "$K" > "$BATS_TEST_TMPDIR/k.json"
	run --separate-stderr rg-select --protect "$BATS_TEST_TMPDIR/k.json" < "$S"
	assert_failure 1
	assert_equal "$stderr" "rg-select: $BATS_TEST_TMPDIR/k.json: Not/A Ref: not an image reference, protects nothing"
	# process substitution, as the man page says
	run --separate-stderr bash -c "rg-select --protect <(cat '$K') < '$S' | jq -r 'select(.protected) | .repo' | sort -u | tr '\n' ' '"
	assert_output "app job over web "
}

@test "rg-rm: a marked record that says it is protected is not deleted" {
	run --separate-stderr bash -c "rg-select --tag '^3$' < '$S' | rg-refs | jq -c 'if .tag == \"3\" then .protected = true else . end' | rg-rm -n --min-age 0s"
	assert_failure 1
	[[ "$stderr" == *"tag record marked but protected (an image in use): nothing deleted for it"* ]]
}
