#!/usr/bin/env bash
# Tickwire used without CMake, and as a Debian package:
#   package_test.sh pkg-config BUILD_DIR WORK_DIR   cmake --install into a scratch prefix; the
#                                                   consumer app built by plain g++ with
#                                                   pkg-config --cflags --libs tickwire
#   package_test.sh deb BUILD_DIR WORK_DIR          cpack's .deb extracted with dpkg-deb -x into a
#                                                   scratch root; the consumer app built against it
#                                                   by g++ with pkg-config and by CMake with
#                                                   find_package(Tickwire)
# Then each consumer runs: it must exchange a message over ENet.
set -euo pipefail
mode=$1
build=$2
work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }

case $mode in
  pkg-config)
    cmake --install "$build" --prefix "$work/prefix" >/dev/null
    root=$work/prefix
    ;;
  deb)
    # cpack installs the build as it is: it builds nothing (the package target would build all).
    cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/package" >/dev/null
    deb=$(ls "$work"/package/*.deb)
    echo "package: $(basename "$deb")"
    dpkg-deb -f "$deb" Package Version Depends
    dpkg-deb -x "$deb" "$work/root"
    root=$work/root/usr
    # Debian's multiarch library directory, where dpkg, ld and pkg-config look.
    multiarch=$(gcc -print-multiarch)
    [ -f "$root/lib/$multiarch/libtickwire_net.a" ] ||
      fail "the libraries are not in /usr/lib/$multiarch: $(cd "$work/root" && find . -name 'libtickwire_*')"
    [ -f "$root/lib/$multiarch/pkgconfig/tickwire.pc" ] || fail "tickwire.pc is not in /usr/lib/$multiarch/pkgconfig"
    [ -f "$root/lib/$multiarch/cmake/Tickwire/TickwireConfig.cmake" ] ||
      fail "the CMake package is not in /usr/lib/$multiarch/cmake/Tickwire"
    [ "$(dpkg-deb -f "$deb" Version)" = "$(sed -n 's/^Version: //p' "$build/tickwire.pc")" ] ||
      fail "the package's version is not the project's"
    ;;
  *) echo "usage: $0 pkg-config|deb BUILD_DIR WORK_DIR" >&2; exit 2 ;;
esac

pc=$(find "$root" -name tickwire.pc)
[ -n "$pc" ] || fail "no tickwire.pc installed under $root"
export PKG_CONFIG_PATH=$(dirname "$pc")
echo "pkg-config: tickwire $(pkg-config --modversion tickwire): $(pkg-config --cflags --libs tickwire)"
# shellcheck disable=SC2046 # the flags are words
g++ -std=c++20 -O1 "$here/app/main.cpp" $(pkg-config --cflags --libs tickwire) -o "$work/consumer_pkg_config"
"$work/consumer_pkg_config"

if [ "$mode" = deb ]; then
  cmake -S "$here/find_package" -B "$work/cmake-consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$root" >/dev/null
  cmake --build "$work/cmake-consumer" >/dev/null
  "$work/cmake-consumer/consumer"
fi
