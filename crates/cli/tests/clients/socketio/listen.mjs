// Listens for DeepEmotion's `processing_update` events as its web client
// does (socket.io-client 4, default namespace) and prints each as a line of
// JSON; prints {"connected": true} once connected, {"connect_error": "…"}
// when refused.
//
//   node listen.mjs URL [TOKEN] [TRANSPORT]
//
// TOKEN (optional, "-" for none) goes in `auth.token`; TRANSPORT is
// "websocket" to skip long polling.
import { io } from "socket.io-client";

const [url, token, transport] = process.argv.slice(2);
const options = { reconnection: false };
if (token && token !== "-") options.auth = { token };
if (transport === "websocket") options.transports = ["websocket"];

const socket = io(url, options);
const say = (value) => process.stdout.write(JSON.stringify(value) + "\n");
socket.on("connect", () => say({ connected: true, transport: socket.io.engine.transport.name }));
socket.io.engine?.on("upgrade", (t) => say({ upgraded: t.name }));
socket.on("connect_error", (error) => {
  say({ connect_error: error.message });
  process.exit(0);
});
socket.on("processing_update", (update) => say({ processing_update: update }));
// The test ends this process when it has heard enough.
