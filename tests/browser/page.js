// Shared by the player pages of tests/browser (hls.html, shaka.html, dashjs.html): the query,
// the result record, the codec-switch plan and the report. No browser driver: what happened
// goes into window.__result and is POSTed as JSON to /result, where the test reads it.
//
// Query: src = manifest URL; licence = Clear Key licence URL (encrypted streams); token = key
// token; timeout_ms = when to give up; captions = 1 to play with subtitles on instead of
// switching codecs (playWithCaptions).
"use strict";
const params = new URLSearchParams(location.search);
const src = params.get("src");
const licence = params.get("licence");
const token = params.get("token");
const giveUpMs = Number(params.get("timeout_ms") || "45000");
const captions = params.get("captions") === "1";
const video = document.getElementById("video");
// H.264 first, then AV1 from SWITCH_AT s on; "played" once past PLAYED_PAST s with frames
// decoded after the switch.
const SWITCH_AT = 1;
const PLAYED_PAST = 3;
const FRAMES_AFTER_SWITCH = 10;
const result = {
  status: null,       // played | captioned | fatal | timeout | no-track | no-text-track
                      // | unsupported | script-error
  currentTime: 0,
  decodedFrames: 0,
  tracks: [],         // every video track/variant the player offers: {codec, width, height}
  switches: [],       // {codec, at (currentTime), frames (decoded before the switch)}
  errors: [],         // the player's error events, play() rejections, script errors
  encryptedEvents: 0, // the media element's "encrypted": the segments really are encrypted
  textTracks: [],     // the subtitles the player lists: {language, label}
  cues: [],           // text of every cue seen active on the video element's text tracks
  fetched: [],        // every URL this page fetched from Vylux (resource timing)
  timeline: {},       // ms since the page started, first time each step happened
};
const mark = (step) => {
  if (!(step in result.timeline)) result.timeline[step] = Math.round(performance.now());
};

function report(status) {
  if (result.status !== null) return;
  result.status = status;
  mark(status);
  result.currentTime = video.currentTime;
  result.decodedFrames = video.getVideoPlaybackQuality().totalVideoFrames;
  result.fetched = performance.getEntriesByType("resource")
    .map((entry) => entry.name).filter((url) => /\/(stream|api\/key)\//.test(url));
  window.__result = result;
  fetch("/result", {method: "POST", body: JSON.stringify(result)});
}

function fail(error) {
  result.errors.push(error);
  report("fatal");
}

window.addEventListener("error", (event) => {
  result.errors.push({type: "script", details: String(event.message)});
  report("script-error");
});
video.addEventListener("encrypted", () => { result.encryptedEvents += 1; mark("encrypted"); });
video.addEventListener("playing", () => mark("playing"));
setTimeout(() => report("timeout"), giveUpMs);

// select(prefix) makes the player play its video track whose codec starts with prefix
// ("avc1", "av01") and returns false when it has none.
function playBothCodecs(select) {
  const switchTo = (prefix) => {
    result.switches.push({
      codec: prefix, at: video.currentTime,
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
    });
    if (!select(prefix)) report("no-track");
  };
  switchTo("avc1");
  video.addEventListener("timeupdate", () => {
    if (result.switches.length === 1 && video.currentTime > SWITCH_AT) {
      mark("switch");
      switchTo("av01");
    }
    const last = result.switches[result.switches.length - 1];
    const frames = video.getVideoPlaybackQuality().totalVideoFrames;
    if (result.switches.length === 2 && video.currentTime > PLAYED_PAST
        && frames >= last.frames + FRAMES_AFTER_SWITCH) {
      report("played");
    }
  });
  // Muted: Chromium's autoplay policy lets muted media play without a user gesture.
  video.play().catch((error) => result.errors.push({type: "play", details: String(error)}));
}

// The captions mode: list the player's subtitles (listTracks() → [{language, label}]), turn
// the first one on (enableFirst() → false when there is none), play, and report "captioned"
// once the video element shows a cue: the cue text is read from its textTracks, where all
// three players render WebVTT by default.
function playWithCaptions(listTracks, enableFirst) {
  result.textTracks = listTracks();
  if (!enableFirst()) { report("no-text-track"); return; }
  const look = () => {
    for (const track of Array.from(video.textTracks)) {
      for (const cue of Array.from(track.activeCues || [])) {
        const text = String(cue.text || "");
        if (text && !result.cues.includes(text)) result.cues.push(text);
      }
    }
    if (result.cues.length > 0) { mark("cue"); report("captioned"); }
  };
  video.addEventListener("timeupdate", look);
  video.play().catch((error) => result.errors.push({type: "play", details: String(error)}));
}
