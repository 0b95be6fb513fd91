"""Study `precond`: softmax self-attention trained by structure-aware preconditioned GD (Goel et al., arXiv 2603.01514).

Layout as described in `attndyn.studies`. Algorithm 1 is the registry rule `algorithm1`, usable on its own:
`from attndyn.optim.structure_aware import StructureAwareGD`; its data-dependent spectral initialization is
`attndyn.studies.precond.init.spectral_init`.
"""
