// Shared by the Shaka Player pages of tests/browser (shaka.html, shaka-audio.html), after
// page.js: the player with Vylux's standard Clear Key set-up (docs/playback.md), i.e.
// drm.servers['org.w3.clearkey'] = Vylux's licence URL and a request filter that adds the
// key token to licence (and HLS key) requests.
"use strict";
const shakaError = (error) => ({
  type: "shaka", category: error.category, code: error.code, severity: error.severity,
  data: JSON.stringify(error.data || []).slice(0, 500),
});

// Attaches a player to the page's video, lets `configure` set it up, then loads src.
// Resolves to the player, or to null once the failure has been reported.
async function loadShaka(configure = (player) => {}) {
  shaka.polyfill.installAll();
  if (!shaka.Player.isBrowserSupported()) { report("unsupported"); return null; }
  const player = new shaka.Player();
  await player.attach(video);
  player.addEventListener("error", (event) => fail(shakaError(event.detail)));
  configure(player);
  if (licence) player.configure("drm.servers.org\\.w3\\.clearkey", licence);
  const RequestType = shaka.net.NetworkingEngine.RequestType;
  player.getNetworkingEngine().registerRequestFilter((type, request) => {
    // LICENSE: the Clear Key licence; KEY: HLS "identity" keys, which Shaka fetches itself.
    if (token && (type === RequestType.LICENSE || type === RequestType.KEY)) {
      request.headers["Authorization"] = "Bearer " + token;
    }
  });
  try {
    await player.load(src);
  } catch (error) {
    fail(shakaError(error));
    return null;
  }
  mark("manifest");
  return player;
}
