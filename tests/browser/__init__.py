"""Real-browser tests: HLS playback in headless Chromium with hls.js."""
