"""Study `precond`: softmax self-attention trained by structure-aware preconditioned GD (Goel et al., arXiv 2603.01514).

Layout as described in `attndyn.studies`. Algorithm 1 is usable on its own:
`from attndyn.studies.precond.algorithm import StructureAwareGD, spectral_init`.
"""
