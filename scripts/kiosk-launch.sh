#!/usr/bin/env bash
# Start a kiosk PC's touchscreen: Chromium in kiosk mode on this kiosk's Turnos page.
#
#   scripts/kiosk-launch.sh URL [TOKEN_FILE]
#
#   URL         the kiosk page, e.g. https://csa-centro.example/kiosk/kiosco-pb-1
#   TOKEN_FILE  first run only: a file holding the kiosk token from
#               `turnos token create NAME --role kiosk`. It is passed in the URL fragment,
#               which never reaches the server's logs; the page pairs itself and the browser
#               profile keeps the pairing cookie, so later starts need no token.
#
# Run it from the kiosk user's session autostart; Chromium restarts if it exits.
set -euo pipefail

url=${1:?usage: kiosk-launch.sh URL [TOKEN_FILE]}
token_file=${2:-}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
profile=${TURNOS_KIOSK_PROFILE:-$HOME/.config/turnos-kiosk}
mkdir -p "$profile"

start_url=$url
if [ -n "$token_file" ]; then
  start_url="$url#token=$(tr -d '[:space:]' < "$token_file")"
fi

flags=(
  --kiosk "--user-data-dir=$profile"
  --noerrdialogs --disable-infobars --no-first-run --disable-session-crashed-bubble
  --disable-translate --disable-features=TranslateUI,Translate
  --overscroll-history-navigation=0 --disable-pinch --check-for-update-interval=31536000
  --autoplay-policy=no-user-gesture-required
)

while true; do
  "$browser" "${flags[@]}" "$start_url" || true
  start_url=$url  # paired now: the token is not needed again
  sleep 2
done
