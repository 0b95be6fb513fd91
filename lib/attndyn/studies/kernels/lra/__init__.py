"""The LRA-style side (spec Sec. 4 and 6): generated Pathfinder images and byte-level IMDb text, a two-layer
Transformer per kernel, per-seed minibatch training (attndyn.minibatch) and the two-stage landscape."""
