"""Great Expectations 1.x validation of labeled examples: valid rows, quarantined rows with reasons.

Nothing is imported here, so that `normalise` (which the split hashing reads) loads without GX.
"""
