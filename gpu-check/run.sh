#!/usr/bin/env bash
# DePass Studio GPU check: unpacks the Node runtime and Dawn shipped beside this script, finds the
# Vulkan loader and the GPU driver's ICD (saying what is missing), and runs the check.
#   bash run.sh OUTDIR [--quick] [--skip SECTIONS] [--dtype BF16|F16|F32] ...   (bash run.sh --help)
# Needs bash, gzip and a Linux x86-64 machine; no network, no Node, no browser.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  echo "usage: bash $0 OUTDIR [--quick] [options]"
  echo "  writes OUTDIR/report.json, OUTDIR/summary.md, OUTDIR/bench.txt and OUTDIR/run.log"
  echo "  options are passed to the check: --quick, --skip kernels,matmul,engine,cli,shapes,bench,"
  echo "  --dtype BF16|F16|F32, --reps N, --deadline-s S, --limit-s S"
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  '' | -*) usage; exit 2 ;;
esac
out=$1
shift
mkdir -p "$out" || { echo "run.sh: cannot create the output folder $out"; exit 2; }
out=$(cd "$out" && pwd)
log="$out/run.log"
: >"$log"
say() { echo "run.sh: $*" | tee -a "$log" >&2; }
notes=()
note() { notes+=("$*"); say "$*"; }
json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n\t' '  ')"; }
# Stops before the check could start: a report saying why, in the same format the check writes.
die() {
  say "STOP: $*"
  local problems=("$@") n sep=""
  {
    printf '{ "format": "depass-gpu-check/1", "status": "failed", "started": "%s", "problems": [' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for n in "${problems[@]}" "${notes[@]:-}"; do [ -n "$n" ] && printf '%s%s' "$sep" "$(json_string "$n")" && sep=", "; done
    printf '] }\n'
  } >"$out/report.json"
  printf '# DePass Studio GPU check\n\n**FAILED** before the check could start: %s\n' "$*" >"$out/summary.md"
  exit 3
}

# --- the machine -------------------------------------------------------------------------------
[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] || die "this pack runs on Linux x86-64; this is $(uname -sm)"
command -v gzip >/dev/null || die "gzip is missing (needed to unpack the Node runtime and Dawn)"

# a.b[.c] >= x.y ?
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [ -z "$glibc" ]; then
  note "could not read the glibc version (not glibc? musl-based systems such as Alpine cannot run this pack)"
elif ! version_ge "$glibc" 2.28; then
  die "glibc $glibc is too old: the Node runtime needs glibc 2.28 or newer, Dawn 2.34 (Ubuntu 22.04, Debian 12, RHEL 9 or later)"
elif ! version_ge "$glibc" 2.34; then
  # Node starts, so the check runs and reports Dawn's own error.
  note "glibc $glibc is too old for Dawn's dawn.node, which needs 2.34 or newer (Ubuntu 22.04, Debian 12, RHEL 9 or later)"
fi

# Directories the dynamic linker searches, and a library found in them (ldconfig's cache first).
lib_dirs=(/usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /lib64 /usr/lib /lib /usr/local/lib /usr/local/nvidia/lib64 /usr/lib/wsl/lib)
find_lib() {
  local p
  p=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | awk -v n="$1" '$1 == n && /x86-64/ { print $NF; exit }')
  if [ -n "$p" ] && [ -e "$p" ]; then echo "$p"; return 0; fi
  local d
  for d in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }} "${lib_dirs[@]}"; do
    if [ -e "$d/$1" ]; then echo "$d/$1"; return 0; fi
  done
  return 1
}

cxx=$(find_lib libstdc++.so.6) || die "libstdc++.so.6 is missing (package libstdc++6)"
grep -aq GLIBCXX_3.4.30 "$(readlink -f "$cxx")" ||
  note "$cxx is too old for Dawn's dawn.node, which needs GLIBCXX_3.4.30 (the C++ library of GCC 12 or newer)"

# --- unpack: in place when this folder is writable, else in a temporary copy -------------------
work=$here
if ! [ -w "$here" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/depass-gpu-check.XXXXXX") || die "cannot create a temporary folder"
  trap 'rm -rf "$work"' EXIT
  cp -R "$here/." "$work/" && chmod -R u+w "$work" || die "cannot copy the pack to $work"
  say "the pack folder is read-only: unpacked into $work (removed at the end)"
fi
unpack() { # FILE.gz -> FILE, unless FILE is already there and newer
  local gz="$work/$1.gz" dst="$work/$1"
  [ -s "$dst" ] && [ "$dst" -nt "$gz" ] && return 0
  [ -r "$gz" ] || die "$1.gz is missing from the pack (copy the whole folder)"
  gzip -dc "$gz" >"$dst.part" && mv "$dst.part" "$dst" || die "cannot unpack $1.gz (disk full?)"
}
unpack runtime/node
chmod +x "$work/runtime/node"
unpack lib/webgpu/dist/linux-x64/dawn.node
node_bin="$work/runtime/node"
"$node_bin" --version >/dev/null 2>&1 || die "the Node runtime does not start: $("$node_bin" --version 2>&1 | head -n1)"

# --- Vulkan loader (Dawn opens libvulkan.so.1 by name, so LD_LIBRARY_PATH picks the pack's) -----
# DEPASS_VULKAN_LOADER=pack uses the pack's loader even where the system has one.
use_pack_loader() {
  [ -e "$work/lib/vulkan/libvulkan.so.1" ] || die "no Vulkan loader (libvulkan.so.1) on this system and none in the pack"
  loader="$work/lib/vulkan/libvulkan.so.1 (shipped in the pack)"
  export LD_LIBRARY_PATH="$work/lib/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}
if [ "${DEPASS_VULKAN_LOADER:-}" = pack ]; then
  use_pack_loader
  note "DEPASS_VULKAN_LOADER=pack: using the Khronos loader shipped in the pack"
elif loader=$(find_lib libvulkan.so.1); then
  loader=$(readlink -f "$loader")
else
  use_pack_loader
  note "this system has no Vulkan loader (libvulkan.so.1, package libvulkan1 or vulkan-loader): using the Khronos loader shipped in the pack"
fi

# --- the driver and its ICD (the JSON file that tells the loader where the driver is) -------------
nvidia=""
nvidia_proc=${DEPASS_NVIDIA_PROC_VERSION:-/proc/driver/nvidia/version} # overridable to test this script
if [ -r "$nvidia_proc" ]; then
  nvidia=$(sed -n 's/.*Kernel Module[[:space:]]*\([0-9.]*\).*/\1/p' "$nvidia_proc" | head -n1)
  [ -n "$nvidia" ] || nvidia="(version unreadable)"
fi
icds=()
if [ -n "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  IFS=: read -r -a icds <<<"${VK_ICD_FILENAMES:-${VK_DRIVER_FILES:-}}"
  for f in "${icds[@]}"; do [ -r "$f" ] || note "VK_ICD_FILENAMES names $f, which does not exist"; done
else
  icd_dirs=("${XDG_CONFIG_HOME:-$HOME/.config}/vulkan/icd.d" /etc/xdg/vulkan/icd.d /etc/vulkan/icd.d
    "${XDG_DATA_HOME:-$HOME/.local/share}/vulkan/icd.d")
  IFS=: read -r -a data_dirs <<<"${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
  for d in "${data_dirs[@]}" /usr/local/share /usr/share; do icd_dirs+=("$d/vulkan/icd.d"); done
  for d in "${icd_dirs[@]}"; do
    for f in "$d"/*.json; do
      [ -r "$f" ] || continue
      case " ${icds[*]:-} " in *" $f "*) ;; *) icds+=("$f") ;; esac
    done
  done
fi
# Each ICD's driver library must exist too.
nvidia_icd=""
for f in "${icds[@]:-}"; do
  [ -r "$f" ] || continue
  libpath=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | head -n1)
  case "$libpath" in
    /*) [ -e "$libpath" ] || note "$f points to $libpath, which does not exist" ;;
    */*) [ -e "$(dirname "$f")/$libpath" ] || note "$f points to $libpath, which does not exist" ;;
    ?*) find_lib "$libpath" >/dev/null || note "$f names $libpath, which the dynamic linker does not find" ;;
  esac
  case "$f $libpath" in *nvidia*) nvidia_icd=$f ;; esac
done
if [ -n "$nvidia" ] && [ -z "$nvidia_icd" ]; then
  # The kernel driver is there but no ICD file names it (common in containers): write one.
  if glx=$(find_lib libGLX_nvidia.so.0); then
    nvidia_icd="$work/nvidia_icd.json"
    printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" >"$nvidia_icd"
    note "NVIDIA driver $nvidia is loaded but no Vulkan ICD file names it: wrote $nvidia_icd for $glx"
    icds+=("$nvidia_icd")
    export VK_ICD_FILENAMES
    VK_ICD_FILENAMES=$(IFS=:; echo "${icds[*]}")
  else
    note "NVIDIA driver $nvidia is loaded, but its Vulkan driver library (libGLX_nvidia.so.0) is missing: install the driver's user-space graphics libraries (e.g. libnvidia-gl-${nvidia%%.*}), or in a container set NVIDIA_DRIVER_CAPABILITIES=all (or include graphics)"
  fi
elif [ -z "$nvidia" ]; then
  note "no NVIDIA kernel driver is loaded ($nvidia_proc is absent): the check runs on whatever Vulkan device exists"
fi
[ ${#icds[@]} -gt 0 ] || note "no Vulkan ICD file found (searched /usr/share/vulkan/icd.d, /etc/vulkan/icd.d and the XDG folders): Vulkan has no driver"

say "Vulkan loader: $loader"
say "Vulkan ICDs: ${icds[*]:-none}"
export DEPASS_CHECK_VK_LOADER="$loader" DEPASS_CHECK_NVIDIA_DRIVER="$nvidia"
DEPASS_CHECK_VK_ICDS=$(IFS=:; echo "${icds[*]:-}")
DEPASS_CHECK_VK_NOTES=$(printf '%s\n' "${notes[@]:-}")
export DEPASS_CHECK_VK_ICDS DEPASS_CHECK_VK_NOTES

# --- run -----------------------------------------------------------------------------------------
"$node_bin" "$work/app/check.mjs" "$out" "$@" 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
say "exit code $rc; read $out/summary.md (all figures in $out/report.json)"
exit "$rc"
