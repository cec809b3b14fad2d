#!/usr/bin/env bash
# `make kafka-image`: build the course's Kafka broker image with no image registry.
#
#   1. eventsim/debian-base:bookworm - a minimal Debian made with debootstrap from the Debian mirror this
#      machine's apt already uses, imported with `docker import`. Built once, then reused.
#   2. eventsim/kafka:<version> - kafka/image/Dockerfile on top of it: Debian's headless Java 17 and the
#      Kafka jars kafka/pom.xml resolved into kafka/lib (make kafka-jars). <version> is kafka/pom.xml's.
#      The image is labelled with a hash of everything it is built from, so a second run with nothing
#      changed only checks that label.
#
# Needs a running Docker engine and, for step 1, debootstrap (apt-get install docker.io debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=${EVENTSIM_BASE_IMAGE:-eventsim/debian-base:bookworm}
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' kafka/pom.xml)
IMAGE=${EVENTSIM_KAFKA_LOCAL_IMAGE:-eventsim/kafka:$version}

die() { echo "make kafka-image: $*" >&2; exit 1; }
docker info >/dev/null 2>&1 || die "no Docker engine answers. Start one (as root: dockerd --iptables=false --ip-masq=false &), or install it first: apt-get install docker.io debootstrap."
ls kafka/lib/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "kafka/lib has no kafka_2.13-$version.jar: run make kafka-jars first."

# -- 1. the base image ---------------------------------------------------------------------------------
debian_mirror() {
  # The first Debian (not security) mirror apt is configured with: deb822 .sources files or sources.list.
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n' \
        | grep -v -- '-security' | head -n 1 || true)
  [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
        | grep -v -- '-security' | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (apt-get install debootstrap); it makes the base image."
  mirror=$(debian_mirror)
  root=$(mktemp -d /tmp/eventsim-base.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "Making $BASE_IMAGE with debootstrap from $mirror ..."
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; die "debootstrap failed"; }
  rm -f "$root.log"
  # apt inside the image uses the same mirror (and its security suite, when the host has one).
  echo "deb $mirror bookworm main" > "$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"; trap - EXIT
fi

# -- 2. the Kafka image --------------------------------------------------------------------------------
inputs=$( (cat kafka/image/Dockerfile kafka/image/run kafka/log4j2.properties; ls -l kafka/lib | awk '{print $5, $9}'; \
           docker image inspect --format '{{.Id}}' "$BASE_IMAGE") | sha256sum | cut -c1-16)
if [ "$(docker image inspect --format '{{ index .Config.Labels "org.eventsim.inputs" }}' "$IMAGE" 2>/dev/null)" = "$inputs" ]; then
  echo "$IMAGE is up to date"
  exit 0
fi
context=$(mktemp -d /tmp/eventsim-kafka-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp kafka/image/Dockerfile kafka/image/run kafka/log4j2.properties "$context/"
cp -r kafka/lib "$context/lib"
rm -f "$context"/lib/.resolved
echo "Building $IMAGE (Debian's Java 17 + the Kafka $version jars) ..."
# The legacy builder (Debian's docker.io has no buildx); its output is shown only when the build fails.
DOCKER_BUILDKIT=0 docker build --network host --build-arg BASE_IMAGE="$BASE_IMAGE" \
  --build-arg KAFKA_VERSION="$version" --label org.eventsim.inputs="$inputs" -t "$IMAGE" "$context" \
  >"$context.log" 2>&1 || { tail -n 30 "$context.log" >&2; rm -f "$context.log"; die "docker build failed"; }
rm -f "$context.log"
echo "$IMAGE built"
