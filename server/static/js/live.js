// Live updates for every Turnos screen: connect, subscribe with the last seq seen, and hand
// each event to the page exactly once, in order. The server replays what a reconnecting
// client missed, or sends a "snapshot" when it missed too much.
/* global io */

// `since`: the seq the page's server-rendered state was read at, so nothing in between is lost.
export function connectLive({ rooms, token = null, since = null, onEvent, onSnapshot,
                              onStatus }) {
  let lastSeq = since;
  // WebSocket only: the server runs several processes, and a long-polling session would need
  // every one of its requests to reach the same process.
  const socket = io({ auth: token ? { token } : {}, transports: ["websocket"] });

  function subscribe() {
    socket.emit("subscribe", { rooms, last_seq: lastSeq }, (reply) => {
      if (!reply || !reply.ok) {
        onStatus?.("error", reply && reply.error);
        return;
      }
      if (lastSeq === null) lastSeq = reply.seq;
      onStatus?.("live");
    });
  }

  socket.on("connect", subscribe);
  socket.on("disconnect", () => onStatus?.("offline"));
  socket.on("connect_error", () => onStatus?.("offline"));
  socket.on("snapshot", (snapshot) => {
    lastSeq = snapshot.seq;
    onSnapshot?.(snapshot);
  });
  socket.onAny((name, message) => {
    if (name === "snapshot" || !message || typeof message.seq !== "number") return;
    if (name !== "queue.changed") {
      if (lastSeq !== null && message.seq <= lastSeq) return;
      lastSeq = message.seq;
    }
    onEvent?.(name, message);
  });
  return socket;
}
