# A short report of what rg-scan saw, for people: used by make demo.
def pad($n): tostring | . + (" " * ([$n - length, 0] | max));
def rpad($n): tostring | (" " * ([$n - length, 0] | max)) + .;
def bytes: if . >= 1048576 then "\(. / 1048576 * 10 | floor / 10) MiB"
	elif . >= 1024 then "\(. / 1024 * 10 | floor / 10) KiB"
	else "\(.) B" end;

(.[0]) as $scan |
[.[] | select(.type == "tag")] as $tags |
[.[] | select(.type == "manifest")] as $mans |
[.[] | select(.type == "blob")] as $blobs |
([$mans[].manifests[]] | unique) as $children |
"Storage \($scan.root), scanned \($scan.time)",
"  \([.[] | select(.type == "repo")] | length) repositories, \($tags | length) tags, \($mans | length) manifests, \($blobs | length) blobs holding \([$blobs[].size] | add // 0 | bytes)",
"",
"\("REPOSITORY" | pad(16)) \("TAGS" | rpad(4)) \("MANIFESTS" | rpad(9)) \("UNTAGGED" | rpad(8))  NEWEST IMAGE",
(.[] | select(.type == "repo") | .repo as $r |
	[$mans[] | select(.repo == $r)] as $m |
	"\($r | pad(16)) \([$tags[] | select(.repo == $r)] | length | rpad(4)) \($m | length | rpad(9)) \([$m[] | select(.tags == [] and (.digest as $d | $children | index($d) | not))] | length | rpad(8))  \([$m[].created // empty] | max // "-")"),
"",
"Untagged manifests, not referenced by any index (left behind by tags pushed over):",
($mans[] | select(.tags == [] and (.digest as $d | $children | index($d) | not)) |
	"  \(.repo)@\(.digest[0:19])  created \(.created // "-")  \(.image_size | bytes)"),
"",
"Multi-arch images:",
($mans[] | select(.manifests != [] and .tags != []) |
	"  \(.repo):\(.tags | join(",")): \(.media_type | sub(".*/"; "")), \(.manifests | length) children"),
"",
"Artifacts:",
($mans[] | select(.subject) |
	"  \(.repo)@\(.digest[0:19]) (\(.artifact_type // "-")) refers to \(.subject[0:19])")
