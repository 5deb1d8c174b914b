"""Digital twins of our car and of the whole field."""

from workbench.twins.car import CarTwin
from workbench.twins.field import FieldTwin

__all__ = ["CarTwin", "FieldTwin"]
