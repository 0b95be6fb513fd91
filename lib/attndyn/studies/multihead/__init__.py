"""Study `multihead`: optimization and generalization of multi-head attention (Deora et al., arXiv 2310.12680).

Layout as described in `attndyn.studies`.
"""
