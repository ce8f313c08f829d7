"""Camera pictures CityOps renders itself: a crossing, a school yard and a street, seen from a
pole, with cars and pedestrians on known paths, by day and by night, with exact ground truth.

The demo shows them when no recorded clips exist; the tests measure the analytics against
them. Entry point: ``open_synthetic("synthetic://crossing?seed=1&night=0")``.
"""

from cityops.video.synthetic.scene import Crossing, SyntheticScene, TruthObject, open_synthetic

__all__ = ["Crossing", "SyntheticScene", "TruthObject", "open_synthetic"]
