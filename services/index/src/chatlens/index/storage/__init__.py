"""On-disk storage of the index: atomic files, the Git wrapper, segments, manifests and paths."""
