"""Study `kernels`: Softmax vs Gaussian attention in GD dynamics (Song et al., arXiv 2411.07538).

Layout as described in `attndyn.studies`, around one shared core: attention.py (the kernels), registry.py
(experiment kind -> data builder, trainer, logged variables), runs.py (input tensors and stacking shared by the
trainers), slices.py and metrics.py (landscape slices, per-run summaries). Two sub-packages: synthetic/ (S1-S3,
batched full-batch runs) and lra/ (Pathfinder, text, their landscape; per-seed minibatch runs). Neither imports
the other.
"""
