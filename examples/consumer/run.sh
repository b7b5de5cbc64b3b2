#!/usr/bin/env bash
# Builds this consumer against the latent artifacts in the local Maven repository (run `mvn install` in
# latent first), prints its runtime dependency tree, and serves MODEL (a latent model file) with it.
# Fails if JUnit reaches the consumer's runtime class path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
model="$(realpath "$1")"
jdk="${JAVA_HOME:-}"
[[ -n "$jdk" && -x "$jdk/bin/java" ]] || jdk="$(ls -d /usr/lib/jvm/temurin-25* | head -1)"
export JAVA_HOME="$jdk"
mvn -B -q package
mvn -B -q dependency:tree -Dscope=runtime -DoutputFile=target/dependency-tree.txt
cat target/dependency-tree.txt
if grep -qi junit target/dependency-tree.txt; then
  echo "consumer: JUnit is on the runtime class path of a latent consumer" >&2
  exit 1
fi
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "target/classes:target/lib/*" example.Embed "$model"
