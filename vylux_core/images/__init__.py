"""``/img`` renditions: options and paths, geometry, size budgets, and the caching
primitives (byte LRU, single flight, write-behind, byte budget) the image service uses."""
