# The tags of an rg-scan stream (jq -s) whose image the registry could not
# serve whole: a manifest, child manifest, blob or layer link missing.
(map(select(.type == "blob")) | map({key: .digest, value: 1}) | from_entries) as $blobs |
(map(select(.type == "layer")) | map({key: (.repo + "@" + .digest), value: 1}) | from_entries) as $links |
(map(select(.type == "manifest")) | map({key: (.repo + "@" + .digest), value: .}) | from_entries) as $mans |
def broken($repo; $d; $depth):
	$mans[$repo + "@" + $d] as $m |
	$m == null or $m.error != null or $blobs[$d] == null or
	([($m.blobs // [])[] | select($blobs[.] == null or $links[$repo + "@" + .] == null)] | length > 0) or
	($depth < 4 and ([($m.manifests // [])[] | select(broken($repo; .; $depth + 1))] | length > 0));
.[] | select(.type == "tag") | select(broken(.repo; .digest; 0)) | "\(.repo):\(.tag)"
