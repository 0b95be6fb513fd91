"""One module per workflow stage; the Snakemake scripts only unpack their `snakemake` object and call these.

Each stage module imports only what its job needs, so the stage's code digest (codegraph) is exactly the
code that can change its outputs."""
