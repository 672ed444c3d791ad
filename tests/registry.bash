# A real registry (docker-registry serve) on a free loopback port with
# throwaway storage, and images built with umoci and pushed with skopeo.
# Nothing here imitates the registry or its storage.  Sourced by the tests
# (helpers.bash), the demo and the benchmark.

# registry_start DIR: serve DIR/data on 127.0.0.1; sets REG (host:port),
# REG_PID, REG_DATA (the rootdirectory) and REG_CONFIG.  $REG_AUTH and
# $REG_TLS, when set, are YAML for config.yml's auth section and http.tls
# (then it serves https); REG_DELETE=false turns the API's deletes off;
# REG_CACHE is storage.cache.blobdescriptor (inmemory, redis) and
# REG_REDIS the redis address; REG_S3, YAML for a storage.s3 section,
# puts the storage on S3 instead of DIR/data (tests/rgw); REG_LOG is YAML
# for its log section (default {level: error}), REG_NOTIFY for its
# notifications section, REG_VALIDATION for its validation section
# (foreign layers' URLs); REG_DRAIN its http.draintimeout (default 10s: a
# stop lets the requests it serves finish, as rg-rm(1) asks; 0s: none).
# Its log is DIR/registry.log, appended to (a
# copytruncate rotation works).  The PID is in DIR/registry.pid too, for
# tests/registryctl, which stops and starts it again on the same port.
registry_start() {
	local dir=$1 port try i scheme=http code rc cache= redis= store
	local log=${REG_LOG:-'{level: error}'}
	store="filesystem: {rootdirectory: $dir/data}"
	[ -z "${REG_S3:-}" ] || store="s3: $REG_S3"$'\n'"  redirect: {disable: true}"
	[ -z "${REG_CACHE:-}" ] || cache="cache: {blobdescriptor: $REG_CACHE}"
	[ -z "${REG_REDIS:-}" ] || redis="redis: {addr: $REG_REDIS}"
	[ -z "${REG_TLS:-}" ] || scheme=https
	mkdir -p "$dir/data"
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 12000))	# below the ephemeral range
		cat > "$dir/config.yml" <<-EOF
		version: 0.1
		log: $log
		storage:
		  $store
		  delete: {enabled: ${REG_DELETE:-true}}
		  maintenance: {uploadpurging: {enabled: false}}
		  $cache
		http: {addr: 127.0.0.1:$port, draintimeout: ${REG_DRAIN:-10s}${REG_TLS:+, tls: $REG_TLS}}
		${REG_AUTH:+auth: $REG_AUTH}
		$redis
		${REG_NOTIFY:+notifications: $REG_NOTIFY}
		${REG_VALIDATION:+validation: $REG_VALIDATION}
		EOF
		# (it panics at start with AWS_CA_BUNDLE set: REGISTRY.md 6)
		env -u AWS_CA_BUNDLE docker-registry serve "$dir/config.yml" \
			>>"$dir/registry.log" 2>&1 3>&- &
		REG_PID=$!
		echo "$REG_PID" > "$dir/registry.pid"
		for i in $(seq 50); do
			rc=0
			code=$(curl -ks -o /dev/null -w '%{http_code}' "$scheme://127.0.0.1:$port/v2/" 2>/dev/null) || rc=$?
			# 35, 56: TLS answered, wanting a client certificate
			if [ "$code" = 200 ] || [ "$code" = 401 ] || [ "$rc" = 35 ] || [ "$rc" = 56 ]; then
				REG=127.0.0.1:$port REG_DATA=$dir/data REG_CONFIG=$dir/config.yml
				export REG REG_PID REG_DATA REG_CONFIG
				return 0
			fi
			kill -0 "$REG_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$REG_PID" 2>/dev/null || true	# it may have died: port taken
		wait "$REG_PID" 2>/dev/null || true
	done
	echo "registry_start: could not start docker-registry:" >&2
	cat "$dir/registry.log" >&2
	return 1
}

registry_stop() {
	[ -z "${REG_CONFIG:-}" ] || [ ! -f "${REG_CONFIG%/*}/registry.pid" ] ||
		REG_PID=$(cat "${REG_CONFIG%/*}/registry.pid")	# registryctl may have restarted it
	[ -n "${REG_PID:-}" ] || return 0
	kill "$REG_PID" 2>/dev/null || true
	wait "$REG_PID" 2>/dev/null || true
	REG_PID=
}

# mkimage LAYOUT TAG ARCH CREATED [CONTENT]: a one-layer image whose layer
# holds CONTENT (default: TAG and ARCH, so every image differs).
mkimage() {
	local layout=$1 tag=$2 arch=$3 created=$4 content=${5:-$2/$3} src
	[ -d "$layout" ] || umoci init --layout "$layout" >/dev/null
	umoci new --image "$layout:$tag" >/dev/null
	src=$(mktemp -d)
	printf '%s\n' "$content" > "$src/file"
	umoci insert --image "$layout:$tag" "$src/file" /file >/dev/null
	rm -rf "$src"
	umoci config --image "$layout:$tag" --created "$created" \
		--architecture "$arch" --os linux >/dev/null
}

# derive LAYOUT FROM TAG CREATED CONTENT: TAG is FROM plus one more layer.
derive() {
	local layout=$1 from=$2 tag=$3 created=$4 content=$5 src
	umoci tag --image "$layout:$from" "$tag" >/dev/null
	src=$(mktemp -d)
	printf '%s\n' "$content" > "$src/app"
	umoci insert --image "$layout:$tag" "$src/app" /app >/dev/null
	rm -rf "$src"
	umoci config --image "$layout:$tag" --created "$created" >/dev/null
}

# mkindex LAYOUT TAG CHILD...: an OCI index of the CHILD tags of LAYOUT,
# with each child's platform, added to the layout as TAG.
mkindex() {
	local layout=$1 tag=$2 child descs='[]' desc cfg arch hex size
	shift 2
	for child in "$@"; do
		desc=$(jq -c --arg t "$child" '.manifests[] |
			select(.annotations["org.opencontainers.image.ref.name"] == $t) |
			del(.annotations)' "$layout/index.json")
		cfg=$(jq -r '.digest' <<<"$desc")
		cfg=$(jq -r '.config.digest' "$layout/blobs/sha256/${cfg#sha256:}")
		arch=$(jq -r '.architecture' "$layout/blobs/sha256/${cfg#sha256:}")
		descs=$(jq -c --argjson d "$desc" --arg a "$arch" \
			'. + [$d + {platform: {architecture: $a, os: "linux"}}]' <<<"$descs")
	done
	jq -cj --argjson m "$descs" -n '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.index.v1+json", manifests: $m}' \
		> "$layout/tmp-index"
	hex=$(sha256sum < "$layout/tmp-index" | cut -d' ' -f1)
	size=$(stat -c %s "$layout/tmp-index")
	mv "$layout/tmp-index" "$layout/blobs/sha256/$hex"
	jq -c --arg d "sha256:$hex" --argjson s "$size" --arg t "$tag" \
		'.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json",
		digest: $d, size: $s,
		annotations: {"org.opencontainers.image.ref.name": $t}}]' \
		"$layout/index.json" > "$layout/index.json.new"
	mv "$layout/index.json.new" "$layout/index.json"
}

# push [skopeo options] LAYOUT:TAG REPO:TAG
push() {
	local n=$(($# - 2))
	skopeo copy -q --dest-tls-verify=false "${@:1:$n}" \
		"oci:${*: -2:1}" "docker://$REG/${*: -1}" >/dev/null
}

# The digest the registry serves for REPO:TAG.
remote_digest() {
	curl -fsSI -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REG/v2/${1%:*}/manifests/${1##*:}" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# put_blob REPO FILE: upload FILE as a blob of REPO; prints its digest.
put_blob() {
	local repo=$1 file=$2 digest loc
	digest=sha256:$(sha256sum < "$file" | cut -d' ' -f1)
	loc=$(curl -fsS -X POST -D - -o /dev/null "http://$REG/v2/$repo/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case "$loc" in http*) ;; *) loc=http://$REG$loc ;; esac
	case "$loc" in *\?*) loc="$loc&digest=$digest" ;; *) loc="$loc?digest=$digest" ;; esac
	curl -fsS -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary "@$file" "$loc" >/dev/null
	echo "$digest"
}

# push_artifact REPO TAG SUBJECT-DIGEST ARTIFACT-TYPE: an OCI 1.1 artifact
# (empty config, one layer) whose subject is SUBJECT-DIGEST; prints its digest.
# TAG - pushes it by digest, untagged.
push_artifact() {
	local repo=$1 tag=$2 subject=$3 type=$4 dir cfg layer subj_size m digest
	dir=$(mktemp -d)
	printf '{}' > "$dir/config"
	printf 'signature of %s, %s\n' "$subject" "$tag" > "$dir/layer"
	cfg=$(put_blob "$repo" "$dir/config")
	layer=$(put_blob "$repo" "$dir/layer")
	subj_size=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REG/v2/$repo/manifests/$subject" | wc -c)
	jq -cj -n --arg c "$cfg" --arg l "$layer" --arg s "$subject" \
		--argjson ss "$subj_size" --arg t "$type" \
		--argjson ls "$(stat -c %s "$dir/layer")" '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		artifactType: $t,
		config: {mediaType: "application/vnd.oci.empty.v1+json", digest: $c, size: 2},
		layers: [{mediaType: "application/octet-stream", digest: $l, size: $ls}],
		subject: {mediaType: "application/vnd.oci.image.manifest.v1+json",
			digest: $s, size: $ss}}' > "$dir/manifest"
	digest=sha256:$(sha256sum < "$dir/manifest" | cut -d' ' -f1)
	[ "$tag" != - ] || tag=$digest
	curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$dir/manifest" "http://$REG/v2/$repo/manifests/$tag" >/dev/null
	rm -rf "$dir"
	echo "$digest"
}

# push_mix DIR: the fixture most tests share; records what it pushed in
# DIR/pushed (repo:tag digest per line) and the artifact's digest in
# DIR/artifact.
push_mix() {
	local dir=$1 L=$1/layout
	mkimage "$L" base amd64 2021-01-01T00:00:00Z
	derive "$L" base app1 2021-02-01T00:00:00Z app-1
	derive "$L" base app2 2021-03-01T00:00:00Z app-2
	derive "$L" base app3 2021-04-01T00:00:00Z app-3
	mkimage "$L" amd amd64 2022-01-01T00:00:00Z
	mkimage "$L" arm arm64 2022-01-02T00:00:00Z
	mkindex "$L" multi amd arm
	mkimage "$L" plain amd64 2020-06-01T12:30:00Z

	push "$L:app1" team/app:1.0              # OCI image
	push "$L:app2" team/app:1.1
	push "$L:app2" team/app:stable           # two tags, one manifest
	push --format v2s2 "$L:plain" team:v2    # Docker schema 2; team is also a namespace
	push "$L:app1" over:latest               # pushed over three times
	push "$L:app2" over:latest
	push "$L:app3" over:latest
	push "$L:base" base:1                    # the same image in two repositories
	push "$L:base" other/base:1
	push --all "$L:multi" multi:1            # OCI index, two platforms
	push --all --format v2s2 "$L:multi" multi/docker:1   # Docker manifest list
	push "$L:plain" deep/a/b/c:x             # nested
	: > "$dir/pushed"
	local ref
	for ref in team/app:1.0 team/app:1.1 team/app:stable team:v2 over:latest \
		base:1 other/base:1 multi:1 multi/docker:1 deep/a/b/c:x; do
		echo "$ref $(remote_digest "$ref")" >> "$dir/pushed"
	done
	push_artifact team/app sig-1.0 "$(remote_digest team/app:1.0)" \
		application/vnd.example.signature > "$dir/artifact"
	echo "team/app:sig-1.0 $(cat "$dir/artifact")" >> "$dir/pushed"
}


# gc ROOT [OPTIONS]: the registry's own collector on the storage at ROOT
gc() {
	local root=$1
	shift
	cat > "$root.gc.yml" <<-EOF
	version: 0.1
	log: {level: error}
	storage:
	  filesystem: {rootdirectory: $root}
	http: {addr: 127.0.0.1:0}
	EOF
	docker-registry garbage-collect "$@" "$root.gc.yml"
}
