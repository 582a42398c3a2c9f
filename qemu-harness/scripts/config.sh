#!/bin/bash
# Make $OBJ/.config from tinyconfig plus the given fragments, and fail if any
# option a fragment asks for did not land (a missing dependency, a typo).
set -eu
[ -z "${TPMRM_SETUP_ONLY:-}" ] || { echo "setup-only: stop before configuring the kernel"; exit 0; }
SRC=$(realpath "$1")
OBJ=$(realpath -m "$2")
shift 2
want=$OBJ/.config.fragments
trap 'rm -f "$want.new"' EXIT

mkdir -p "$OBJ"
cat "$@" > "$want.new"
# Redo the config when a fragment or any Kconfig file changed since.
if [ -f "$OBJ/.config" ] && cmp -s "$want.new" "$want" &&
   [ -z "$(find "$SRC/" -name 'Kconfig*' -newer "$OBJ/.config" -print -quit)" ]; then
	exit 0
fi
make -s -C "$SRC" O="$OBJ" ARCH=x86_64 tinyconfig >/dev/null 2> >(grep -v "override: .* changes choice state" >&2)
# merge_config.sh splits paths at spaces: give it copies in $OBJ.
frags=()
for f in "$@"; do
	cp "$f" "$OBJ/.fragment-${#frags[@]}"
	frags+=("$OBJ/.fragment-${#frags[@]}")
done
KCONFIG_CONFIG=$OBJ/.config "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" \
	"$OBJ/.config" "${frags[@]}" >/dev/null
make -s -C "$SRC" O="$OBJ" ARCH=x86_64 olddefconfig >/dev/null

bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%=n}; grep -q "^$opt=" "$OBJ/.config" || continue ;;
	CONFIG_*=*) grep -qxF "$line" "$OBJ/.config" && continue ;;
	*) continue ;;
	esac
	echo "config: requested '$line' but .config has: $(grep "^${line%%=*}[= ]\|# ${line%%=*} " "$OBJ/.config" || echo nothing)" >&2
	bad=1
done < "$want.new"
if [ "$bad" != 0 ]; then
	rm -f "$OBJ/.config"
	exit 1
fi
mv "$want.new" "$want"
echo "config: $OBJ/.config ($(basename -a "$@" | tr '\n' ' '))"
