"""Video and audio renditions as data: the ladder, captions, downloads, storyboards,
waveforms, the media hash and the object keys of everything a job writes."""
