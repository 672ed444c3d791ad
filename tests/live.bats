# rg-rm beside a registry that runs: what it knows from the registry's
# config.yml (its cache), the window where the registry is stopped, the
# redis cache's entries, and each way a push racing a deletion could lose
# data, on the real registry (pushes with skopeo, pulls whole).

setup() {
	load helpers
	L=$BATS_TEST_TMPDIR/layout
	R=$BATS_TEST_TMPDIR/r
	mkimage "$L" a amd64 2021-01-01T00:00:00Z
	derive "$L" a b 2021-02-01T00:00:00Z b-only
}

teardown() {
	registry_stop
	[ -z "${REDIS_PID:-}" ] || { kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; }
}

# plan SELECTION...: what rg's pipeline would delete of the storage
plan() {
	rg-scan "$REG_DATA" | rg-select "$@" | rg-refs 2>/dev/null
}

ctl() {
	echo "$BATS_TEST_DIRNAME/registryctl $R $1"
}

restart() {
	"$BATS_TEST_DIRNAME/registryctl" "$R" stop
	"$BATS_TEST_DIRNAME/registryctl" "$R" start
}

counts() {	# object result ... of the rm records
	jq -r 'select(.type == "rm") | "\(.object) \(.result)"' <<<"$1" | sort | uniq -c |
		awk '{ print $2, $3, $1 }' | paste -sd, -
}

@test "the registry's config.yml: errors name the file and the line; another storage is refused" {
	REG_CACHE=inmemory registry_start "$R"
	push "$L:a" app:1
	sleep 1
	plan app:1 > "$BATS_TEST_TMPDIR/plan"
	printf 'storage:\n  cache: [\n' > "$BATS_TEST_TMPDIR/bad.yml"
	run --separate-stderr rg-rm -c "$BATS_TEST_TMPDIR/bad.yml" < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: $BATS_TEST_TMPDIR/bad.yml: line 3: did not find expected node content"
	printf 'storage:\n  filesystem: {rootdirectory: /nonexistent}\n' > "$BATS_TEST_TMPDIR/other.yml"
	run --separate-stderr rg-rm -c "$BATS_TEST_TMPDIR/other.yml" < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: --config $BATS_TEST_TMPDIR/other.yml: the registry's storage is filesystem /nonexistent, not the one the stream was scanned from ($REG_DATA/docker/registry/v2)"
	run --separate-stderr rg-rm -c /nonexistent.yml < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: /nonexistent.yml: No such file or directory"
	run --separate-stderr rg-rm --stop true < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: --stop and --start go together: the registry stopped is started again"
	# nothing was deleted by any of these
	pulls app:1
	# rg-scan finds the storage in it too
	# (its two threads interleave blob and repository records: sorted)
	assert_equal "$(rg-scan -c "$REG_CONFIG" | jq -c 'del(.time)' | sort)" "$(rg-scan "$REG_DATA" | jq -c 'del(.time)' | sort)"
	run --separate-stderr rg-scan -c "$REG_CONFIG" "$REG_DATA"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: $REG_DATA and --config $REG_CONFIG: one storage, named once"
	printf 'storage:\n  gcs: {bucket: b}\n' > "$BATS_TEST_TMPDIR/gcs.yml"
	run --separate-stderr rg-scan -c "$BATS_TEST_TMPDIR/gcs.yml"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: $BATS_TEST_TMPDIR/gcs.yml: storage driver gcs: rg-scan reads filesystem or s3 storage, or a registry through its URL"
	# the options of S3 with a filesystem configuration
	run --separate-stderr rg-scan -j 4 -c "$REG_CONFIG"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: --jobs: applies to a scan of a registry's URL, not of its storage"
	run --separate-stderr rg-scan -c "$REG_CONFIG" "http://$REG"
	assert_failure 2
	assert_equal "$stderr" "rg-scan: --config: a scan of http://$REG goes through its API, not its storage"
}

@test "in-memory cache: without a window, layer links and blobs stay (said once); a push of the same layers pulls whole" {
	REG_CACHE=inmemory registry_start "$R"
	push "$L:a" app:1
	pulls app:1		# the registry's cache now knows its blobs
	sleep 1
	plan app:1 > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -c "$REG_CONFIG" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(counts "$output")" "blob kept 3,layer kept 2,manifest deleted 1,tag deleted 1"
	assert_equal "$(jq -r 'select(.result == "kept") | .why' <<<"$output" | sort -u)" \
		"the registry's in-memory cache could go on claiming it: --stop and --start delete it while the registry is stopped"
	assert_equal "$(grep -c "kept 5 layer links and blobs: the registry ($REG_CONFIG) caches blob descriptors in memory" <<<"$stderr")" 1
	push "$L:a" app:2
	pulls app:2
	restart
	pulls app:2
}

@test "in-memory cache, --stop and --start: links and blobs go while the registry is stopped; the same layers pushed again upload and pull" {
	REG_CACHE=inmemory registry_start "$R"
	push "$L:a" app:1
	push "$L:b" app:b
	pulls app:1 app:b
	sleep 1
	plan app:1 app:b > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -c "$REG_CONFIG" --min-age 0s --stop "$(ctl stop)" \
		--start "$(ctl start)" < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(counts "$output")" "blob deleted 6,layer deleted 4,manifest deleted 2,tag deleted 2"
	[[ "$stderr" != *draintimeout* ]]	# (registry.bash sets it)
	[ -z "$(find "$REG_DATA/docker/registry/v2/blobs" -name data)" ]
	curl -fsS "http://$REG/v2/" >/dev/null	# started again
	push "$L:b" app:2
	pulls app:2
	restart
	pulls app:2
	# a --stop that fails: nothing of the window is done, the registry is started
	push "$L:a" app:3
	sleep 1
	plan app:3 > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -c "$REG_CONFIG" --min-age 0s --stop false \
		--start "$(ctl start)" < "$BATS_TEST_TMPDIR/plan"
	assert_failure 1
	assert_line --index 0 --partial '"result":"deleted"'
	assert_equal "$(jq -r 'select(.object == "blob" or .object == "layer") | .why' <<<"$output" | sort -u)" \
		"the registry could not be stopped (--stop)"
	[[ "$stderr" == "rg-rm: --stop: false: exit 1"* ]]
	# a registry without http.draintimeout: SIGTERM would end it at once,
	# a push cut while it writes a manifest (truncated for good): it is not
	# stopped, layer links and blobs are kept, and rg-rm says why
	sed 's/, draintimeout: [^,}]*//' "$REG_CONFIG" > "$BATS_TEST_TMPDIR/nodrain.yml"
	! grep -q draintimeout "$BATS_TEST_TMPDIR/nodrain.yml"
	push "$L:a" app:4
	sleep 1
	plan app:4 > "$BATS_TEST_TMPDIR/plan"
	local pid
	pid=$(cat "$R/registry.pid")
	run --separate-stderr rg-rm -c "$BATS_TEST_TMPDIR/nodrain.yml" --min-age 0s \
		--stop "$(ctl stop)" --start "$(ctl start)" < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | "\(.object) \(.result)"' <<<"$output" | sort -u | tr '\n' ,)" \
		"blob kept,layer kept,manifest deleted,tag deleted,"
	assert_equal "$(jq -r 'select(.object == "blob" or .object == "layer") | .why' <<<"$output" | sort -u)" \
		"--stop would cut the registry's pushes: its config.yml has no http.draintimeout"
	assert_equal "$(head -1 <<<"$stderr")" "rg-rm: $BATS_TEST_TMPDIR/nodrain.yml: no http.draintimeout: stopping the registry would cut the pushes it serves, a manifest half written among them; layer links and blobs are kept until it is set (http: {draintimeout: 60s}) (rg-rm(1))"
	assert_equal "$(cat "$R/registry.pid")" "$pid"	# never stopped
	pulls app:2
}

@test "what the in-memory cache does to a deletion it is not told of: the next push of the same layers is broken" {
	REG_CACHE=inmemory registry_start "$R"
	push "$L:a" app:1
	pulls app:1
	sleep 1
	plan app:1 > "$BATS_TEST_TMPDIR/plan"
	# rg-rm not given the config (nor finding it): the cache is not known
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[[ "$stderr" == *"the registry's configuration is not known (--config): if it caches blob descriptors in memory, restart it now" ]]
	push "$L:a" app:2	# accepted: the cache says the blobs are there
	run pulls app:2
	assert_failure
}

@test "redis cache: the entries of exactly what went are removed, no other key; the same layers pushed again pull whole" {
	redis_start
	port=$REDIS_PORT
	REG_CACHE=redis REG_REDIS=127.0.0.1:$port registry_start "$R"
	push "$L:a" app:1
	push "$L:b" app:b
	push "$L:a" keep:1
	pulls app:1 app:b keep:1
	export LC_ALL=C
	keys() {
		{ redis-cli -p "$port" --scan
		redis-cli -p "$port" smembers repository::app::blobs | sed 's/^/member /'; } | sort
	}
	keys > "$BATS_TEST_TMPDIR/before"
	sleep 1
	plan app:b > "$BATS_TEST_TMPDIR/plan"
	run --separate-stderr rg-rm -c "$REG_CONFIG" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(counts "$output")" "blob deleted 3,layer deleted 2,manifest deleted 1,tag deleted 1"
	keys > "$BATS_TEST_TMPDIR/after"
	{
		jq -r 'select(.object == "blob" and .result == "deleted") | "blobs::" + .digest' <<<"$output"
		jq -r 'select(.object == "layer" and .result == "deleted") |
			"repository::\(.repo)::blobs::\(.digest)", "member \(.digest)"' <<<"$output"
	} | sort > "$BATS_TEST_TMPDIR/expected"
	# every entry that went is one of what was deleted, and each that was there went
	assert_equal "$(comm -23 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after")" \
		"$(comm -12 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/expected")"
	[ -z "$(comm -13 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after")" ]
	[ "$(comm -12 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/expected" | wc -l)" -ge 3 ]
	push "$L:b" app:2
	pulls app:2 app:1 keep:1
	restart
	pulls app:2 app:1 keep:1
	# redis gone: rg-rm deletes no link or blob, and says why
	push "$L:a" solo:1
	sleep 1
	plan solo:1 > "$BATS_TEST_TMPDIR/plan"
	kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=
	run --separate-stderr rg-rm -c "$REG_CONFIG" --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_failure 2
	assert_equal "$stderr" "rg-rm: $REG_CONFIG: the registry's cache (redis): redis 127.0.0.1:$port: cannot connect: Connection refused: nothing deleted"
}

@test "an upload whose manifest is still to come: its young layer links stay, and their blobs; the push then completes and pulls" {
	registry_start "$R"
	push "$L:a" app:1
	# the layers of app:b uploaded, its manifest not yet pushed
	dir=$L/blobs/sha256
	man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "b") | .digest' "$L/index.json")
	for d in $(jq -r '.config.digest, .layers[].digest' "$dir/${man#sha256:}"); do
		put_blob app "$dir/${d#sha256:}" >/dev/null
	done
	sleep 1
	rg-scan "$REG_DATA" | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	assert_equal "$(jq -r 'select(.delete) | .type' "$BATS_TEST_TMPDIR/plan" | sort | uniq -c | awk '{ print $2, $1 }' | paste -sd, -)" "blob 2,layer 2"
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.type == "rm") | "\(.object) \(.result) \(.why)"' <<<"$output" | sort -u)" \
		"$(printf 'blob kept a layer link to it stays\nlayer kept linked since the scan, or younger than --min-age')"
	curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$dir/${man#sha256:}" "http://$REG/v2/app/manifests/b" >/dev/null
	pulls app:b app:1
}

@test "a tag link caught as the registry rewrites it (empty, just written) stays; one left empty long ago goes" {
	registry_start "$R"
	push "$L:a" app:1
	push "$L:b" app:2
	sleep 1
	plan app:1 > "$BATS_TEST_TMPDIR/plan"
	link=$REG_DATA/docker/registry/v2/repositories/app/_manifests/tags/1/current/link
	: > "$link"	# the registry truncates, then writes
	run --separate-stderr rg-rm --min-age 1h < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.object == "tag") | "\(.result) \(.why)"' <<<"$output")" "kept its link is being written"
	touch -d '-2 hours' "$link"
	plan app:2 > /dev/null
	run --separate-stderr rg-rm --min-age 1h < "$BATS_TEST_TMPDIR/plan"
	assert_equal "$(jq -r 'select(.object == "tag") | .result' <<<"$output")" deleted
}

@test "a manifest pushed again as rg-rm deletes it gets its revision link back (rg-rm held at the rename)" {
	registry_start "$R"
	push "$L:a" app:1
	push "$L:b" app:1	# a is untagged now, in the tag's history
	sleep 1
	rg-scan "$REG_DATA" | rg-select --untagged | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	# the second rename is the revision link's (the first, the tag history's)
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
		strace -f -qq -o /dev/null -e trace=renameat,renameat2 \
		-e inject=renameat,renameat2:delay_enter=4000000:when=2 \
		rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" &
	rm_pid=$!
	sleep 1.5
	push "$L:a" app:again
	wait "$rm_pid"
	assert_equal "$(jq -r 'select(.object == "manifest") | "\(.result) \(.why)"' "$BATS_TEST_TMPDIR/audit")" \
		"kept pushed again as it was deleted"
	pulls app:again app:1
	restart
	pulls app:again app:1
}

@test "blobs waiting in pending come back when a manifest is pushed meanwhile (rg-rm held in its wait)" {
	registry_start "$R"
	push "$L:a" app:1
	push "$L:b" app:1	# a is untagged now
	sleep 1
	rg-scan "$REG_DATA" | rg-select --untagged | rg-refs 2>/dev/null > "$BATS_TEST_TMPDIR/plan"
	[ "$(jq -r 'select(.type == "blob" and .delete) | .digest' "$BATS_TEST_TMPDIR/plan" | wc -l)" -gt 0 ]
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 \
		strace -f -qq -o /dev/null -e trace=clock_nanosleep \
		-e inject=clock_nanosleep:delay_enter=4000000:when=1 \
		rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan" > "$BATS_TEST_TMPDIR/audit" &
	rm_pid=$!
	sleep 1.5
	# while rg-rm waits, its blobs are in pending: a new image elsewhere
	[ -n "$(ls "$REG_DATA/docker/registry/v2/.rg-trash/pending")" ]
	mkimage "$L" c arm64 2022-01-01T00:00:00Z
	push "$L:c" other:1
	wait "$rm_pid"
	assert_equal "$(jq -r 'select(.object == "blob") | "\(.result) \(.why)"' "$BATS_TEST_TMPDIR/audit" | sort -u)" \
		"kept linked or needed as it was deleted"
	assert_equal "$(jq -r 'select(.object == "manifest") | .result' "$BATS_TEST_TMPDIR/audit")" deleted
	[ ! -e "$REG_DATA/docker/registry/v2/.rg-trash/pending" ]
	pulls app:1 other:1
	# the next run, with nothing pushed meanwhile, deletes them
	sleep 1
	rg-scan "$REG_DATA" | rg-select --untagged | rg-refs 2>/dev/null | rg-rm --min-age 0s > "$BATS_TEST_TMPDIR/audit"
	assert_equal "$(jq -r 'select(.object == "blob") | .result' "$BATS_TEST_TMPDIR/audit" | sort -u)" deleted
	pulls app:1 other:1
}

@test "killed while objects wait in pending: the next run puts them back and keeps links and blobs; the one after deletes them" {
	registry_start "$R"
	push "$L:a" app:1
	push "$L:b" app:1
	sleep 1
	plan_untagged() {
		rg-scan "$REG_DATA" | rg-select --untagged | rg-refs 2>/dev/null
	}
	plan_untagged > "$BATS_TEST_TMPDIR/plan"
	run strace -f -qq -o /dev/null -e trace=clock_nanosleep \
		-e inject=clock_nanosleep:signal=KILL:when=1 \
		rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_equal "$status" 137
	pending=$REG_DATA/docker/registry/v2/.rg-trash/pending
	n=$(find "$pending" -mindepth 1 -maxdepth 1 ! -name '*.notes' | wc -l)
	[ "$n" -gt 0 ]
	pulls app:1	# what is pending was garbage: every tag still pulls
	plan_untagged > "$BATS_TEST_TMPDIR/plan"	# the scan does not see them
	run --separate-stderr rg-rm --min-age 0s < "$BATS_TEST_TMPDIR/plan"
	assert_success
	[[ "$stderr" == "rg-rm: $REG_DATA/docker/registry/v2: put back $n objects a killed run had moved away and not yet deleted; a later run deletes them if they are still garbage"* ]]
	[ ! -e "$pending" ]
	# a's manifest is back, untagged, for the next run
	assert_equal "$(rg-scan "$REG_DATA" | rg-select --untagged | jq -r 'select(.delete) | .type')" manifest
	sleep 1
	plan_untagged | rg-rm --min-age 0s > "$BATS_TEST_TMPDIR/audit"
	[ -z "$(rg-scan "$REG_DATA" | rg-select --untagged | jq -c 'select(.delete)')" ]
	[ -z "$(rg-scan "$REG_DATA" | rg-refs 2>/dev/null | jq -c 'select(.delete and .type != "refs")')" ]
	pulls app:1
	restart
	pulls app:1
}

@test "a layer link the registry read within --min-age stays, marked; unread that long, it goes; a push that checked its layers before rg-rm ran succeeds" {
	registry_start "$R"
	push "$L:a" app:1
	push "$L:b" keep:1
	find "$REG_DATA" -exec touch -h -d '-2 hours' {} +	# old, and unread since
	man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "a") | .digest' "$L/index.json")
	dir=$L/blobs/sha256
	# a push of a's image under a new tag checks its blobs (HEAD) ...
	for d in $(jq -r '.config.digest, .layers[].digest' "$dir/${man#sha256:}"); do
		curl -fsS -o /dev/null -I "http://$REG/v2/app/blobs/$d"
	done
	sleep 1
	plan app:1 > "$BATS_TEST_TMPDIR/plan"
	# ... rg-rm runs before its manifest comes
	run --separate-stderr rg-rm < "$BATS_TEST_TMPDIR/plan"
	assert_success
	assert_equal "$(jq -r 'select(.object == "layer") | "\(.result) \(.why)"' <<<"$output" | sort -u)" \
		"kept read by the registry within --min-age (a push may be using it): marked, it goes once unread that long"
	# (the manifest's own blob may go: a push of it writes it again)
	curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$dir/${man#sha256:}" "http://$REG/v2/app/manifests/again" >/dev/null
	pulls app:again keep:1
	# the tag goes; then each run marks what was read lately, and the run
	# after, nothing having read it for --min-age, deletes it
	sleep 1
	rg-scan "$REG_DATA" | rg-select app:again | rg-refs 2>/dev/null | rg-rm --min-age 2s > /dev/null
	for i in 1 2 3; do
		sleep 3
		rg-scan "$REG_DATA" | rg-select --untagged | rg-refs 2>/dev/null |
			rg-rm --min-age 2s > "$BATS_TEST_TMPDIR/audit.$i"
	done
	grep -q '"why":"read by the registry within --min-age' "$BATS_TEST_TMPDIR/audit.1"
	assert_equal "$(ls "$REG_DATA/docker/registry/v2/repositories/app/_layers/sha256" | wc -l)" 0
	assert_equal "$(ls "$REG_DATA/docker/registry/v2/repositories/app/_manifests/revisions/sha256" | wc -l)" 0
	pulls keep:1
}
