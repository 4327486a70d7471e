#!/usr/bin/env bash
# Sets up (or brings up to date) the development venv: pinned wheels, the message build, and an
# editable install of attune. Every step is skipped when its inputs have not changed, so a second
# run takes a second or two.
#
#   tools/bootstrap.sh [SECTION...]     # pin sections of requirements.txt to install
#                                       # (default: runtime ros build)
# Environment: ATTUNE_VENV (default .venv), PYTHON (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ATTUNE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
SECTIONS=("${@:-runtime ros build}")
read -r -a SECTIONS <<< "${SECTIONS[*]}"
STAMPS="$VENV/.attune-stamps"
BUILD="$ROOT/build/venv"

say() { printf '[bootstrap] %s\n' "$*" >&2; }
digest() { cat "$@" | sha256sum | cut -c1-16; }

# 1. The venv itself.
if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating venv at $VENV"
  "$PYTHON" -m venv "$VENV"
fi
mkdir -p "$STAMPS"
VPY="$VENV/bin/python"

# 2. Pinned wheels, by section.
for section in "${SECTIONS[@]}"; do
  pins="$("$PYTHON" "$ROOT/tools/pins.py" "$section")"
  want="$(printf '%s' "$pins" | sha256sum | cut -c1-16)"
  if [[ "$(cat "$STAMPS/pins-$section" 2>/dev/null)" != "$want" ]]; then
    say "installing [$section] pins"
    printf '%s\n' "$pins" > "$STAMPS/pins-$section.txt"
    # A section whose header says "no-deps" is installed without its dependencies.
    nodeps=()
    if grep -Eq "^#[[:space:]]*\[$section\][[:space:]]+no-deps" "$ROOT/requirements.txt"; then nodeps=(--no-deps); fi
    "$VPY" -m pip install --quiet --disable-pip-version-check "${nodeps[@]}" -r "$STAMPS/pins-$section.txt"
    echo "$want" > "$STAMPS/pins-$section"
  fi
done

# 3. The messages, built by rosidl into the venv (libraries in <venv>/lib, which the ROS wheels'
#    bootstrapper puts on LD_LIBRARY_PATH; Python modules in <venv>/lib/attune_interfaces).
msg_digest="$(digest "$ROOT"/msg/*.msg "$ROOT/CMakeLists.txt" "$ROOT/package.xml")"
if [[ "$(cat "$STAMPS/messages" 2>/dev/null)" != "$msg_digest" ]]; then
  say "building messages (rosidl)"
  export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
  rm -rf "$BUILD" "$VENV/lib/attune_interfaces"
  "$VENV/bin/cmake" -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_MAKE_PROGRAM="$VENV/bin/ninja" \
    -DCMAKE_INSTALL_PREFIX="$VENV" -DBUILD_TESTING=OFF -DATTUNE_INTERFACES_ONLY=ON \
    -DPython3_EXECUTABLE="$VPY" -DPYTHON_INSTALL_DIR=lib/attune_interfaces > "$STAMPS/cmake.log" 2>&1 \
    && "$VENV/bin/cmake" --build "$BUILD" --target install >> "$STAMPS/cmake.log" 2>&1 \
    || { tail -40 "$STAMPS/cmake.log" >&2; say "message build failed (full log: $STAMPS/cmake.log)"; exit 1; }
  # The generated `attune` directory only holds attune.msg and its type-support extensions; without
  # an __init__.py it can never shadow src/attune, whose __init__ extends __path__ to include it.
  rm -f "$VENV/lib/attune_interfaces/attune/__init__.py"
  # rosidl also writes an egg-info for `attune` there; pip would take it for an installed attune and
  # uninstall it (the messages with it) when installing the real one.
  rm -rf "$VENV"/lib/attune_interfaces/attune-*.egg-info
  site="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$VENV/lib/attune_interfaces" > "$site/attune_interfaces.pth"
  echo "$msg_digest" > "$STAMPS/messages"
  rm -f "$STAMPS/package"  # reinstall attune after a message rebuild
fi

# 3b. hri_msgs (REP-155): a ROS 2 install that has the released package (ros-$ROS_DISTRO-hri-msgs,
#     seen through a --system-site-packages venv) keeps it; otherwise our wire-compatible copy in
#     interfaces/hri_msgs is built like the messages above, into <venv>/lib/hri_msgs_interfaces.
HRI_DIR="$VENV/lib/hri_msgs_interfaces"
hri_digest="$(digest "$ROOT"/interfaces/hri_msgs/msg/*.msg "$ROOT/interfaces/hri_msgs/CMakeLists.txt" \
  "$ROOT/interfaces/hri_msgs/package.xml")"
hri_found="$("$VPY" -c 'import hri_msgs.msg, os; print(os.path.dirname(hri_msgs.__file__))' 2>/dev/null || true)"
if [[ -n "$hri_found" && "$hri_found" != "$HRI_DIR"/* ]]; then
  [[ -f "$STAMPS/hri_msgs" ]] && say "using the installed hri_msgs at $hri_found"
  rm -f "$STAMPS/hri_msgs"
elif [[ "$(cat "$STAMPS/hri_msgs" 2>/dev/null)" != "$hri_digest" ]]; then
  say "building hri_msgs (rosidl, REP-155 messages)"
  export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
  rm -rf "$BUILD-hri_msgs" "$HRI_DIR"
  "$VENV/bin/cmake" -S "$ROOT/interfaces/hri_msgs" -B "$BUILD-hri_msgs" -G Ninja \
    -DCMAKE_MAKE_PROGRAM="$VENV/bin/ninja" -DCMAKE_INSTALL_PREFIX="$VENV" -DBUILD_TESTING=OFF \
    -DPython3_EXECUTABLE="$VPY" -DPYTHON_INSTALL_DIR=lib/hri_msgs_interfaces > "$STAMPS/cmake-hri.log" 2>&1 \
    && "$VENV/bin/cmake" --build "$BUILD-hri_msgs" --target install >> "$STAMPS/cmake-hri.log" 2>&1 \
    || { tail -40 "$STAMPS/cmake-hri.log" >&2; say "hri_msgs build failed (full log: $STAMPS/cmake-hri.log)"; exit 1; }
  rm -rf "$HRI_DIR"/hri_msgs-*.egg-info
  site="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$HRI_DIR" > "$site/hri_msgs_interfaces.pth"
  echo "$hri_digest" > "$STAMPS/hri_msgs"
fi

# 4. attune itself, editable, with its console script.
pkg_digest="$(digest "$ROOT/setup.py" "$ROOT/requirements.txt")"
if [[ "$(cat "$STAMPS/package" 2>/dev/null)" != "$pkg_digest" ]]; then
  say "installing attune (editable)"
  "$VPY" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e "$ROOT"
  echo "$pkg_digest" > "$STAMPS/package"
fi
