"""Reading labeled example files into one frame, keeping every row's origin."""
