"""The synthetic checks S1-S3 (spec Sec. 7): a single attention layer regressed on random or teacher targets,
every seed one run of a batched full-batch ensemble."""
