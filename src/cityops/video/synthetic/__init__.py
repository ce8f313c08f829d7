"""Camera pictures CityOps renders itself: a crossing, a school yard and a street, seen from a
pole, with cars and pedestrians on known paths, by day and by night, with exact ground truth.

The demo shows them when no recorded clips exist; the tests measure the analytics against
them. Entry point: ``open_synthetic("synthetic://crossing?seed=1&night=0")``.

A frame costs about 1 ms at 640x360 on one core here (the crossing by day or night, 5-15 cars
and people in view; the yard and the street 0.2-0.3 ms): the static picture is drawn once per
scene and shared, with a few noise variants; each frame copies one and draws the actors on it.
"""

from cityops.video.synthetic.scene import Crossing, SyntheticScene, TruthObject, open_synthetic

__all__ = ["Crossing", "SyntheticScene", "TruthObject", "open_synthetic"]
