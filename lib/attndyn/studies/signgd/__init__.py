"""Study `signgd`: SignGD vs Adam vs GD on a two-layer transformer (Li et al., arXiv 2410.04870).

Layout as described in `attndyn.studies`; SignGD itself is `attndyn.optim.signgd.SignGD`.
"""
