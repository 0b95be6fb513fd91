"""Study `kernels`: Softmax vs Gaussian attention in GD dynamics (Song et al., arXiv 2411.07538).

Layout as described in `attndyn.studies`.
"""
