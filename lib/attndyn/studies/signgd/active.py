"""Train only the coordinates that the training tokens touch.

The loss depends on each weight matrix W (R, m, d) only through <w_m, x> for training tokens x, so
the gradient at a coordinate no training token touches is exactly 0 at every step. SignGD (sign 0 = 0),
GD, heavy ball and Adam (first moment stays 0) then leave that coordinate at its initial value, so
training the (R, m, K) restriction to the touched coordinates (K ~ d/3 at the default size) gives the
same iterates, bit for bit. Weight decay would move untouched coordinates: then train everything.
"""
from __future__ import annotations

import torch

from .tokens import Tokens


class ActiveCoordinates:
    """The touched coordinates of every run: the tokens and initial weights restricted to them, and the full
    matrices rebuilt from restricted ones."""

    def __init__(self, X: Tokens, init: dict[str, torch.Tensor]):
        self.active = X.active()                                           # (R, K) coordinates
        self.X = X.restricted(self.active)                                 # tokens in local coordinates
        self.init = {k: v.detach() for k, v in init.items()}               # (R, m, d) each
        self.compact = {k: v.gather(2, self._index(v)) for k, v in self.init.items()}   # (R, m, K) each

    def _index(self, W: torch.Tensor) -> torch.Tensor:
        return self.active[:, None, :].expand(-1, W.shape[1], -1)          # (R, m, K)

    def full(self, compact: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The full (R, m, d) matrices of restricted ones (R, m, K): initial values off the active coordinates."""
        return {k: self.init[k].scatter(2, self._index(v), v.detach()) for k, v in compact.items()}
