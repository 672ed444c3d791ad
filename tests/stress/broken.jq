# The tags of an rg-scan stream (jq -s) whose image the registry could not
# serve whole: a manifest, child manifest, blob or layer link missing.
# With --arg why 1: each with what is missing.
(map(select(.type == "blob")) | map({key: .digest, value: 1}) | from_entries) as $blobs |
(map(select(.type == "layer")) | map({key: (.repo + "@" + .digest), value: 1}) | from_entries) as $links |
(map(select(.type == "manifest")) | map({key: (.repo + "@" + .digest), value: .}) | from_entries) as $mans |
def broken($repo; $d; $depth):
	$mans[$repo + "@" + $d] as $m |
	$m == null or $m.error != null or $blobs[$d] == null or
	([($m.blobs // [])[] | select($blobs[.] == null or $links[$repo + "@" + .] == null)] | length > 0) or
	($depth < 4 and ([($m.manifests // [])[] | select(broken($repo; .; $depth + 1))] | length > 0));
def missing($repo; $d):
	$mans[$repo + "@" + $d] as $m |
	if $m == null then ["revision \($d)"]
	elif $m.error != null then ["\($d): \($m.error)"]
	else [if $blobs[$d] == null then "blob \($d)" else empty end] +
		[($m.blobs // [])[] | (if $blobs[.] == null then "blob \(.)" else empty end),
		 (if $links[$repo + "@" + .] == null then "layer link \(.)" else empty end)] +
		[($m.manifests // [])[] | missing($repo; .)[]]
	end;
.[] | select(.type == "tag") | select(broken(.repo; .digest; 0)) |
	"\(.repo):\(.tag)" + if ($ARGS.named.why // "") != "" then ": " + (missing(.repo; .digest) | join(", ")) else "" end
