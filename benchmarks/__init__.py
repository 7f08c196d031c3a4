"""Speed and quality benchmarks (`make bench`); results land in benchmarks/results/ as JSON."""
