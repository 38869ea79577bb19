"""Real-browser tests: Shaka Player, dash.js and hls.js play Vylux streams in headless Chromium."""
