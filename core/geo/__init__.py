"""French geography shared by every module: the communes of the official geographic code."""
