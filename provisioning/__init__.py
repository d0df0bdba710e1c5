"""The district technician's tool: per-device SD-card images, enrolment tokens, posters, and the
golden-image recipe. It runs on the technician's laptop without root (mtools edits the FAT)."""
